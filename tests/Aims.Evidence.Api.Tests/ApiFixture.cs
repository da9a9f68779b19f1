using System.Net.Http.Headers;
using Aims.Evidence.Api;
using Aims.Evidence.Cli;
using Aims.Evidence.Core.Pipeline;
using Aims.Evidence.Core.Storage;
using Aims.Evidence.Local;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.Hosting;

namespace Aims.Evidence.Api.Tests;

/// <summary>A temp SQLite file with sample documents ingested through the real pipeline, keys of every role, and the API host.</summary>
public sealed class ApiFixture : IAsyncLifetime
{
    public static readonly string[] SampleFiles = ["ai-policy.md", "model-card-credit-prescreen.md", "data-sheet-applications.csv"];

    public string Dir { get; } = Path.Combine(Path.GetTempPath(), "aims-api-tests-" + Guid.NewGuid().ToString("N"));

    public string Inbox => Path.Combine(Dir, "inbox");

    public LocalAims Aims { get; private set; } = null!;

    public AimsApiFactory Factory { get; private set; } = null!;

    public string ReaderKey { get; private set; } = string.Empty;

    public string ReviewerKey { get; private set; } = string.Empty;

    public string ReviewerKeyId { get; private set; } = string.Empty;

    public string AdminKey { get; private set; } = string.Empty;

    public const long MaxUpload = 4096;

    public async ValueTask InitializeAsync()
    {
        Directory.CreateDirectory(Inbox);
        Aims = await LocalAims.OpenAsync(Path.Combine(Dir, "aims.db"));
        await IngestSamplesAsync(Aims);
        ReaderKey = (await Aims.Store.CreateApiKeyAsync(ApiRole.Reader, "test")).Key;
        var reviewer = await Aims.Store.CreateApiKeyAsync(ApiRole.Reviewer, "test");
        ReviewerKey = reviewer.Key;
        ReviewerKeyId = reviewer.Record.Id;
        AdminKey = (await Aims.Store.CreateApiKeyAsync(ApiRole.Admin, "test")).Key;
        Factory = new AimsApiFactory(Aims, Inbox);
    }

    public static async Task IngestSamplesAsync(LocalAims aims)
    {
        var pipeline = aims.CreatePipeline();
        foreach (var name in SampleFiles)
        {
            var outcome = await pipeline.IngestAsync(name, await File.ReadAllBytesAsync(Path.Combine(TestPaths.SamplesDir, name)));
            Assert.Equal(IngestStatus.Processed, outcome.Status);
        }
    }

    public HttpClient Client(string? key = null)
    {
        var client = Factory.CreateClient();
        if (key is not null)
        {
            client.DefaultRequestHeaders.Add("X-Api-Key", key);
        }

        client.DefaultRequestHeaders.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        return client;
    }

    public async ValueTask DisposeAsync()
    {
        await Factory.DisposeAsync();
        ApiFixture.CloseAndDelete(Aims, Dir);
    }

    /// <summary>Closes the store, releases pooled SQLite connections and deletes the fixture's folder (best effort).</summary>
    public static void CloseAndDelete(LocalAims aims, string dir)
    {
        ArgumentNullException.ThrowIfNull(aims);
        aims.Dispose();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        TempDir.Delete(dir);
    }
}

/// <summary>The `aims serve` composition (AimsServer) on a TestServer.</summary>
/// <remarks>Reviews do not re-score other passages here (tests sharing the fixture see fixed suggestions) unless <paramref name="learnFromReviews"/>.</remarks>
public sealed class AimsApiFactory(LocalAims aims, string inbox, bool learnFromReviews = false) : WebApplicationFactory<AimsHost>
{
    protected override IHostBuilder CreateHostBuilder() =>
        Host.CreateDefaultBuilder()
            .ConfigureWebHostDefaults(web => web
                .ConfigureServices(s => s.AddAimsServer(aims, o =>
                {
                    o.InboxPath = inbox;
                    o.MaxUploadBytes = ApiFixture.MaxUpload;
                    o.WatchInbox = false;
                    o.LearnFromReviews = learnFromReviews;
                }))
                .Configure(AimsServer.ConfigureApp));
}
