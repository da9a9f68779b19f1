using System.Text.Json;
using Aims.Evidence.Cli;
using Aims.Evidence.Core.Storage;
using Aims.Evidence.Local;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Aims.Evidence.Api.Tests;

/// <summary>
/// The digest end to end in the <c>aims serve</c> composition (real Kestrel, real SQLite file): sent at start to a
/// receiver on 127.0.0.1, not again by a restarted server the same day; a bad webhook setting stops the host at start.
/// </summary>
[Trait(Tiers.Name, Tiers.Integration)]
public sealed class DigestServeTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static WebApplication Serve(LocalAims aims, string inbox, string? webhook, IDigestStore? digests = null)
    {
        // What AimsServer.Build composes, with the notification settings given in memory.
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Production", Args = [] });
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["Aims:Notifications:WebhookUrl"] = webhook });
        if (digests is not null)
        {
            builder.Services.AddSingleton(digests);
        }

        builder.Services.AddServeSettings(builder.Configuration);
        builder.Services.AddAimsServer(aims, o =>
        {
            o.InboxPath = inbox;
            o.WatchInbox = false;
        });
        var app = builder.Build();
        app.UseAimsEvidenceApi();
        app.MapAimsEvidenceApi();
        return app;
    }

    [Fact]
    public async Task Serve_sends_the_digest_at_start_once_a_day_and_refuses_a_bad_webhook_setting()
    {
        var dir = Directory.CreateTempSubdirectory("aims-digest-serve-").FullName;
        var bodies = new List<string>();
        var receiverBuilder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Production", Args = [] });
        receiverBuilder.WebHost.UseUrls("http://127.0.0.1:0");
        receiverBuilder.Logging.ClearProviders();
        await using var receiver = receiverBuilder.Build();
        receiver.MapPost("/hook", async (HttpContext context) =>
        {
            using var reader = new StreamReader(context.Request.Body);
            var body = await reader.ReadToEndAsync(context.RequestAborted);
            lock (bodies)
            {
                bodies.Add(body);
            }
        });
        await receiver.StartAsync(Ct);
        var webhook = receiver.Urls.First() + "/hook";

        try
        {
            using var aims = await LocalAims.OpenAsync(Path.Combine(dir, "aims.db"), cancellationToken: Ct);
            await aims.Store.SetOwnerAsync("A.6.2.2", "alice@example.org", new DateOnly(2020, 1, 31), "reviewer", Ct);

            await using (var first = Serve(aims, dir, webhook))
            {
                await first.StartAsync(Ct);
                for (var i = 0; i < 100 && Count(bodies) == 0; i++)
                {
                    await Task.Delay(100, Ct);
                }

                await first.StopAsync(Ct);
            }

            var digest = JsonDocument.Parse(Assert.Single(bodies)).RootElement;
            Assert.Contains("1 overdue task", digest.GetProperty("text").GetString(), StringComparison.Ordinal);
            Assert.Equal("A.6.2.2", digest.GetProperty("overdueTasks")[0].GetProperty("entryId").GetString());

            // Restarted the same day: its claim on the day is refused (waited for, so a dead digest service fails), nothing more is sent.
            var claims = new WatchedDigests(aims.Store);
            await using (var second = Serve(aims, dir, webhook, claims))
            {
                await second.StartAsync(Ct);
                Assert.False(await claims.FirstClaim.Task.WaitAsync(TimeSpan.FromSeconds(30), Ct));
                await second.StopAsync(Ct);
            }

            Assert.Single(bodies);

            // A webhook that is no http(s) URL stops the host at start, naming the setting.
            await using var bad = Serve(aims, dir, "ftp://example.org/hook");
            var error = await Assert.ThrowsAsync<OptionsValidationException>(() => bad.StartAsync(Ct));
            Assert.Contains("Aims:Notifications:WebhookUrl", error.Message, StringComparison.Ordinal);
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>The store's digest days, with the outcome of the first claim made through it.</summary>
    private sealed class WatchedDigests(IDigestStore inner) : IDigestStore
    {
        public TaskCompletionSource<bool> FirstClaim { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public async Task<bool> TryClaimDigestAsync(DateOnly day, IReadOnlyList<string> gaps, CancellationToken cancellationToken = default)
        {
            var claimed = await inner.TryClaimDigestAsync(day, gaps, cancellationToken);
            FirstClaim.TrySetResult(claimed);
            return claimed;
        }

        public Task ReleaseDigestAsync(DateOnly day, CancellationToken cancellationToken = default) => inner.ReleaseDigestAsync(day, cancellationToken);

        public Task<DigestRecord?> GetLastDigestBeforeAsync(DateOnly day, CancellationToken cancellationToken = default) => inner.GetLastDigestBeforeAsync(day, cancellationToken);
    }

    private static int Count(List<string> bodies)
    {
        lock (bodies)
        {
            return bodies.Count;
        }
    }
}
