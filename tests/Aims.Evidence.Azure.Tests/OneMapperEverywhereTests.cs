using Aims.Evidence.Azure.Tables;
using Aims.Evidence.Azure.Tests.Infrastructure;
using Aims.Evidence.Core.Storage;
using Aims.Evidence.Functions;
using Aims.Evidence.Local;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Aims.Evidence.Azure.Tests;

/// <summary>
/// The Functions app and the embedded host build their classifier and mapper in the one composition root from the
/// same settings, so the same document gets the same type and the same mappings (ids, scores, methods, rationales).
/// </summary>
[Trait(Tiers.Name, Tiers.Slow)]
public sealed class OneMapperEverywhereTests(AzuriteFixture azurite)
{
    [Theory]
    [InlineData("trained")]
    [InlineData("lexical")]
    public async Task Cli_and_functions_map_the_same_document_identically(string mapper)
    {
        azurite.Require();
        var ct = TestContext.Current.CancellationToken;
        var prefix = AzuriteFixture.UniquePrefix();
        var settings = new Dictionary<string, string?>
        {
            ["AzureWebJobsStorage"] = azurite.ConnectionString,
            ["Aims:Azure:TablePrefix"] = prefix,
            ["Aims:Mapping:Mapper"] = mapper,
        };
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var name = "model-card-credit-prescreen.md";
        var bytes = await File.ReadAllBytesAsync(Path.Combine(TestPaths.RepoRoot, "samples", name), ct);

        // Functions: the blob trigger's pipeline over Table Storage (Azurite).
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddAimsFunctions(configuration);
        services.AddSingleton<IngestBlobFunction>();
        await using var provider = services.BuildServiceProvider();
        var container = azurite.Blobs().GetBlobContainerClient("evidence-inbox");
        await container.CreateIfNotExistsAsync(cancellationToken: ct);
        var blob = container.GetBlobClient(prefix + "-" + name);
        await blob.UploadAsync(BinaryData.FromBytes(bytes), overwrite: true, ct);
        Assert.Equal(IngestionStates.Processed, await provider.GetRequiredService<IngestBlobFunction>().IngestAsync(blob, prefix + "-" + name, ct));
        var store = provider.GetRequiredService<IEvidenceStore>();
        var cloudDoc = (await store.GetCurrentByNameAsync(prefix + "-" + name, ct))!;
        var cloud = await store.GetPassagesAsync(cloudDoc.Id, ct);

        // CLI: the embedded host over SQLite, same configuration.
        var dir = Path.Combine(Path.GetTempPath(), "aims-same-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(dir);
        try
        {
            using var aims = await LocalAims.OpenAsync(Path.Combine(dir, "aims.db"), configuration, ct);
            await aims.CreatePipeline().IngestAsync(prefix + "-" + name, bytes, ct);
            var localDoc = (await aims.Store.GetCurrentByNameAsync(prefix + "-" + name, ct))!;
            var local = await aims.Store.GetPassagesAsync(localDoc.Id, ct);

            Assert.Equal(localDoc.DocType, cloudDoc.DocType);
            Assert.Equal(localDoc.DocTypeConfidence, cloudDoc.DocTypeConfidence, 6);
            Assert.Equal(local.Count, cloud.Count);
            Assert.Contains(local, p => p.Mappings.Count > 0);
            for (var i = 0; i < local.Count; i++)
            {
                var a = local[i].Mappings.OrderByDescending(m => m.Score).ThenBy(m => m.ControlId, StringComparer.Ordinal).Select(m => (m.ControlId, Math.Round(m.Score, 4), m.Method, m.Rationale)).ToArray();
                var b = cloud[i].Mappings.OrderByDescending(m => m.Score).ThenBy(m => m.ControlId, StringComparer.Ordinal).Select(m => (m.ControlId, Math.Round(m.Score, 4), m.Method, m.Rationale)).ToArray();
                Assert.Equal(a, b);
            }
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(dir, recursive: true);
        }
    }
}
