using Aims.Evidence.Core.Storage;
using System.Collections.Concurrent;
using Aims.Evidence.Azure.Configuration;
using Aims.Evidence.Azure.Tables;
using Aims.Evidence.Azure.Tests.Infrastructure;
using Aims.Evidence.Core.Extraction;
using Aims.Evidence.Core.Pipeline;
using Aims.Evidence.Functions;
using Azure.Data.Tables;
using Azure.Storage.Blobs;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;

namespace Aims.Evidence.Azure.Tests;

[Trait(Tiers.Name, Tiers.Slow)]
public sealed class IngestBlobFunctionTests(AzuriteFixture azurite)
{
    private sealed class RecordingIngestor(Func<int, Exception?>? failOnCall = null) : IDocumentIngestor
    {
        public ConcurrentQueue<(string Name, byte[] Content)> Calls { get; } = new();

        public Task<IngestOutcome> IngestAsync(string name, ReadOnlyMemory<byte> content, CancellationToken cancellationToken = default)
        {
            Calls.Enqueue((name, content.ToArray()));
            var error = failOnCall?.Invoke(Calls.Count);
            return error is null
                ? Task.FromResult(new IngestOutcome(name, IngestStatus.Processed, new DocumentRecord { Id = "d1", Name = name, Sha256 = "x", PassageCount = 3 }, null))
                : Task.FromException<IngestOutcome>(error);
        }
    }

    private async Task<(BlobClient Blob, IngestionStatusTable Status, AimsAzureOptions Options)> ArrangeAsync(string name, string content)
    {
        azurite.Require();
        var ct = TestContext.Current.CancellationToken;
        var container = azurite.Blobs().GetBlobContainerClient("evidence-inbox");
        await container.CreateIfNotExistsAsync(cancellationToken: ct);
        var blob = container.GetBlobClient(name);
        await blob.UploadAsync(BinaryData.FromString(content), overwrite: true, ct);

        var options = new AimsAzureOptions { TablePrefix = AzuriteFixture.UniquePrefix(), MaxIngestAttempts = 3 };
        var status = new IngestionStatusTable(azurite.Tables(), options.TablePrefix);
        await status.InitializeAsync(ct);
        return (blob, status, options);
    }

    private static IngestBlobFunction Function(IDocumentIngestor ingestor, IngestionStatusTable status, AimsAzureOptions options) =>
        new(ingestor, status, options, NullLogger<IngestBlobFunction>.Instance);

    [Fact]
    public async Task Ingests_a_real_blob_and_records_processed_status_once()
    {
        var ct = TestContext.Current.CancellationToken;
        var name = $"policies/{Guid.NewGuid():N}.md";
        var (blob, status, options) = await ArrangeAsync(name, "# AI policy\n\nThe organization shall ...");
        var ingestor = new RecordingIngestor();
        var function = Function(ingestor, status, options);

        Assert.Equal(IngestionStates.Processed, await function.IngestAsync(blob, name, ct));

        var call = Assert.Single(ingestor.Calls);
        Assert.Equal(name, call.Name);
        Assert.Equal("# AI policy\n\nThe organization shall ...", System.Text.Encoding.UTF8.GetString(call.Content));

        var row = await status.GetAsync(name, ct);
        Assert.NotNull(row);
        Assert.Equal(IngestionStates.Processed, row.State);
        Assert.Equal(1, row.Attempts);
        Assert.Equal("processed: 3 passages", row.Outcome);
        Assert.Equal(64, row.Sha256?.Length);

        // A duplicate event for the same bytes does not ingest again.
        Assert.Equal(IngestionStates.Processed, await function.IngestAsync(blob, name, ct));
        Assert.Single(ingestor.Calls);

        // New bytes under the same name are a new document version: ingested again.
        await blob.UploadAsync(BinaryData.FromString("# AI policy v2"), overwrite: true, ct);
        Assert.Equal(IngestionStates.Processed, await function.IngestAsync(blob, name, ct));
        Assert.Equal(2, ingestor.Calls.Count);
    }

    [Fact]
    public async Task A_failing_ingestor_is_retried_a_bounded_number_of_times_then_recorded_failed()
    {
        var ct = TestContext.Current.CancellationToken;
        var name = $"{Guid.NewGuid():N}.pdf";
        var (blob, status, options) = await ArrangeAsync(name, "%PDF-1.7 ...");
        var ingestor = new RecordingIngestor(_ => new TimeoutException("Document Intelligence timed out"));
        var function = Function(ingestor, status, options);

        // Attempts 1 and 2 rethrow so the host delivers the blob again.
        await Assert.ThrowsAsync<TimeoutException>(() => function.IngestAsync(blob, name, ct));
        var afterFirst = await status.GetAsync(name, ct);
        Assert.Equal(IngestionStates.Retrying, afterFirst?.State);
        Assert.Equal(1, afterFirst?.Attempts);

        await Assert.ThrowsAsync<TimeoutException>(() => function.IngestAsync(blob, name, ct));

        // Attempt 3 is the last: recorded as failed with the reason, and the function returns normally.
        Assert.Equal(IngestionStates.Failed, await function.IngestAsync(blob, name, ct));
        var row = await status.GetAsync(name, ct);
        Assert.Equal(IngestionStates.Failed, row?.State);
        Assert.Equal(3, row?.Attempts);
        Assert.Contains("Document Intelligence timed out", row?.LastError, StringComparison.Ordinal);

        // Further deliveries of the same bytes do not call the pipeline again.
        Assert.Equal(IngestionStates.Failed, await function.IngestAsync(blob, name, ct));
        Assert.Equal(3, ingestor.Calls.Count);
    }

    [Fact]
    public async Task A_rejected_document_fails_at_once_with_its_reason()
    {
        var ct = TestContext.Current.CancellationToken;
        var name = $"{Guid.NewGuid():N}.pdf";
        var (blob, status, options) = await ArrangeAsync(name, "not really a pdf");
        var ingestor = new RecordingIngestor(_ => new DocumentRejectedException(RejectionKind.Invalid, "The PDF is encrypted."));
        var function = Function(ingestor, status, options);

        Assert.Equal(IngestionStates.Failed, await function.IngestAsync(blob, name, ct));
        var row = await status.GetAsync(name, ct);
        Assert.Equal(IngestionStates.Failed, row?.State);
        Assert.Equal(1, row?.Attempts);
        Assert.Equal("The PDF is encrypted.", row?.LastError);
        Assert.Single(ingestor.Calls);
    }

    [Fact]
    public async Task A_deleted_blob_is_skipped()
    {
        var ct = TestContext.Current.CancellationToken;
        var name = $"{Guid.NewGuid():N}.md";
        var (blob, status, options) = await ArrangeAsync(name, "x");
        await blob.DeleteAsync(cancellationToken: ct);
        var ingestor = new RecordingIngestor();

        Assert.Equal("gone", await Function(ingestor, status, options).IngestAsync(blob, name, ct));
        Assert.Empty(ingestor.Calls);
    }

    [Fact]
    public async Task Service_registrations_resolve_from_configuration()
    {
        azurite.Require();
        var prefix = AzuriteFixture.UniquePrefix();
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["AzureWebJobsStorage"] = azurite.ConnectionString,
            ["Aims:Azure:TablePrefix"] = prefix,
            ["Aims:Azure:MaxIngestAttempts"] = "5",
        }).Build();
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddAimsFunctions(configuration);
        services.AddSingleton<IngestBlobFunction>();
        using var provider = services.BuildServiceProvider();

        Assert.NotNull(provider.GetRequiredService<IngestBlobFunction>());
        Assert.Equal(5, provider.GetRequiredService<AimsAzureOptions>().MaxIngestAttempts);
        var table = provider.GetRequiredService<TableServiceClient>().GetTableClient(prefix + "IngestStatus");
        Assert.True((await table.GetAccessPoliciesAsync(TestContext.Current.CancellationToken)).GetRawResponse().Status == 200);
        Assert.IsType<BlobServiceClient>(provider.GetRequiredService<BlobServiceClient>());
    }

    [Fact]
    public async Task The_real_pipeline_ingests_a_blob_into_real_tables()
    {
        azurite.Require();
        var ct = TestContext.Current.CancellationToken;
        var prefix = AzuriteFixture.UniquePrefix();
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["AzureWebJobsStorage"] = azurite.ConnectionString,
            ["Aims:Azure:TablePrefix"] = prefix,
        }).Build();
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddAimsFunctions(configuration);
        services.AddSingleton<IngestBlobFunction>();
        using var provider = services.BuildServiceProvider();

        var container = azurite.Blobs().GetBlobContainerClient("evidence-inbox");
        await container.CreateIfNotExistsAsync(cancellationToken: ct);
        var blob = container.GetBlobClient("model-card.md");
        await blob.UploadAsync(BinaryData.FromString("# Model card\n\n## Intended use\n\nThe credit pre-screening model is intended to rank consumer loan applications for manual review by trained underwriters. It must not be used to make automated final credit decisions or for employment screening.\n\n## Evaluation\n\nThe model was validated on a held-out test set of 40,000 applications; AUC was 0.81 and approval-rate differences between age groups stayed within the four-fifths threshold.\n"), overwrite: true, ct);

        var function = provider.GetRequiredService<IngestBlobFunction>();
        Assert.Equal(IngestionStates.Processed, await function.IngestAsync(blob, "model-card.md", ct));

        var store = provider.GetRequiredService<IEvidenceStore>();
        var doc = await store.GetCurrentByNameAsync("model-card.md", ct);
        Assert.NotNull(doc);
        Assert.Equal(DocumentStatus.Processed, doc!.Status);
        Assert.Equal("model-card", doc.DocType);
        var passages = await store.GetPassagesAsync(doc.Id, ct);
        Assert.NotEmpty(passages);
        Assert.Contains(passages, p => p.Mappings.Count > 0);

        // A redelivered event for the same bytes changes nothing.
        Assert.Equal(IngestionStates.Processed, await function.IngestAsync(blob, "model-card.md", ct));
        Assert.Single(await store.GetVersionsAsync("model-card.md", ct));
    }
}
