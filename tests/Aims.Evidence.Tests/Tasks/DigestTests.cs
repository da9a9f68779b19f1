using System.Text.Json;
using Aims.Evidence.Core.Catalog;
using Aims.Evidence.Core.Gaps;
using Aims.Evidence.Core.Services;
using Aims.Evidence.Core.Storage;
using Aims.Evidence.Core.Tasks;
using Aims.Evidence.Sqlite;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Aims.Evidence.Tests.Tasks;

/// <summary>
/// The daily digest against a real HTTP receiver on 127.0.0.1 (Kestrel) over a real SQLite file: sent once a day,
/// retried on server errors, given back when it cannot be delivered, nothing without a webhook.
/// </summary>
public sealed class DigestTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static readonly DateTimeOffset Morning = new(2026, 12, 3, 7, 0, 0, TimeSpan.Zero);

    /// <summary>A clock the test sets.</summary>
    private sealed class TestClock(DateTimeOffset now) : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = now;

        public override DateTimeOffset GetUtcNow() => Now;
    }

    /// <summary>A webhook on 127.0.0.1 that answers each POST with the next status of <paramref name="statuses"/> (then 200) and keeps the bodies.</summary>
    private sealed class Receiver : IAsyncDisposable
    {
        private readonly WebApplication _app;
        private readonly Queue<int> _statuses;

        private Receiver(WebApplication app, Queue<int> statuses)
        {
            _app = app;
            _statuses = statuses;
        }

        public List<string> Bodies { get; } = [];

        public string Url => _app.Urls.First() + "/hook";

        public static async Task<Receiver> StartAsync(params int[] statuses)
        {
            var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Production" });
            builder.WebHost.UseUrls("http://127.0.0.1:0");
            builder.Logging.ClearProviders();
            var app = builder.Build();
            var receiver = new Receiver(app, new Queue<int>(statuses));
            app.MapPost("/hook", async (HttpContext context) =>
            {
                using var reader = new StreamReader(context.Request.Body);
                var body = await reader.ReadToEndAsync(context.RequestAborted);
                lock (receiver.Bodies)
                {
                    receiver.Bodies.Add(body);
                    context.Response.StatusCode = receiver._statuses.Count > 0 ? receiver._statuses.Dequeue() : 200;
                }
            });
            await app.StartAsync();
            return receiver;
        }

        public async ValueTask DisposeAsync()
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
    }

    private static DigestRunner Runner(SqliteEvidenceStore store, string? webhook, TimeProvider clock, int maxAttempts = 4) =>
        new(
            new EvidenceService(store, IsoCatalog.Default),
            store,
            new HttpClient(),
            new NotificationOptions { WebhookUrl = webhook, MaxAttempts = maxAttempts, RetryDelayMilliseconds = 20, TimeoutSeconds = 10 },
            new TaskOptions(),
            clock);

    private static async Task<SqliteEvidenceStore> StoreWithOwnersAsync(TempDir tmp)
    {
        var store = new SqliteEvidenceStore(tmp.Db);
        await store.SetOwnerAsync("A.6.2.2", "alice@example.org", new DateOnly(2026, 11, 30), "reviewer", Ct); // overdue on 2026-12-03
        await store.SetOwnerAsync("A.2.2", "bob", new DateOnly(2027, 3, 31), "reviewer", Ct);                 // open, on time
        return store;
    }

    [Fact]
    public async Task The_digest_arrives_once_a_day_with_overdue_tasks_and_new_gaps_even_after_a_restart()
    {
        using var tmp = new TempDir();
        await using var receiver = await Receiver.StartAsync();
        var clock = new TestClock(Morning);
        using (var store = await StoreWithOwnersAsync(tmp))
        using (var runner = Runner(store, receiver.Url, clock))
        {
            Assert.Equal(DigestOutcome.Sent, await runner.RunAsync(Ct));
            Assert.Equal(DigestOutcome.AlreadySent, await runner.RunAsync(Ct));
        }

        var digest = JsonDocument.Parse(Assert.Single(receiver.Bodies)).RootElement;
        var text = digest.GetProperty("text").GetString()!;
        Assert.StartsWith("AIMS evidence digest 2026-12-03: 1 overdue task, ", text, StringComparison.Ordinal);
        Assert.Contains("A.6.2.2", text, StringComparison.Ordinal);
        Assert.Contains("alice@example.org, due 2026-11-30 (missing)", text, StringComparison.Ordinal);
        Assert.Equal("2026-12-03", digest.GetProperty("day").GetString());
        var overdue = Assert.Single(digest.GetProperty("overdueTasks").EnumerateArray());
        Assert.Equal("A.6.2.2", overdue.GetProperty("entryId").GetString());
        Assert.Equal("missing", overdue.GetProperty("status").GetString());
        Assert.True(overdue.GetProperty("overdue").GetBoolean());

        // The first digest: every gap is new (an empty store: every leaf entry is missing).
        var leaves = IsoCatalog.Default.Entries.Count(e => !e.Container);
        Assert.Equal(leaves, digest.GetProperty("newGaps").GetArrayLength());
        Assert.Equal(0, digest.GetProperty("turningStale").GetArrayLength());
        Assert.False(digest.TryGetProperty("gaps", out _));

        // After a restart (a new store and runner over the same file) the day is still sent: nothing goes out.
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        using (var store = new SqliteEvidenceStore(tmp.Db))
        using (var runner = Runner(store, receiver.Url, clock))
        {
            Assert.Equal(DigestOutcome.AlreadySent, await runner.RunAsync(Ct));
            Assert.Single(receiver.Bodies);

            // The next day: a new digest, whose new gaps are only those that were not gaps yesterday.
            clock.Now = Morning.AddDays(1);
            await store.SetOwnerAsync("A.2.2", "bob", new DateOnly(2026, 12, 1), "reviewer", Ct);
            Assert.Equal(DigestOutcome.Sent, await runner.RunAsync(Ct));
        }

        var second = JsonDocument.Parse(receiver.Bodies[1]).RootElement;
        Assert.Equal("2026-12-04", second.GetProperty("day").GetString());
        Assert.Equal(0, second.GetProperty("newGaps").GetArrayLength());
        Assert.Equal(["A.2.2", "A.6.2.2"], second.GetProperty("overdueTasks").EnumerateArray().Select(t => t.GetProperty("entryId").GetString()).Order(StringComparer.Ordinal));
        Assert.Contains("2 overdue tasks, 0 new gaps", second.GetProperty("text").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_receiver_that_fails_twice_gets_the_digest_on_the_third_attempt()
    {
        using var tmp = new TempDir();
        await using var receiver = await Receiver.StartAsync(503, 500);
        using var store = await StoreWithOwnersAsync(tmp);
        using var runner = Runner(store, receiver.Url, new TestClock(Morning));

        Assert.Equal(DigestOutcome.Sent, await runner.RunAsync(Ct));
        Assert.Equal(3, receiver.Bodies.Count);
        Assert.Single(receiver.Bodies.Distinct(StringComparer.Ordinal)); // the same digest each time
        Assert.Equal(DigestOutcome.AlreadySent, await runner.RunAsync(Ct));
        Assert.Equal(3, receiver.Bodies.Count);
    }

    [Fact]
    public async Task An_undelivered_digest_leaves_the_day_open_and_a_refusal_is_not_retried()
    {
        using var tmp = new TempDir();
        await using var receiver = await Receiver.StartAsync(500, 502, 400);
        using var store = await StoreWithOwnersAsync(tmp);
        using var runner = Runner(store, receiver.Url, new TestClock(Morning), maxAttempts: 2);

        Assert.Equal(DigestOutcome.Failed, await runner.RunAsync(Ct)); // 500, 502: out of attempts
        Assert.Equal(2, receiver.Bodies.Count);
        Assert.Equal(DigestOutcome.Failed, await runner.RunAsync(Ct)); // 400: refused, not retried
        Assert.Equal(3, receiver.Bodies.Count);
        Assert.Equal(DigestOutcome.Sent, await runner.RunAsync(Ct));   // the day was still open
        Assert.Equal(4, receiver.Bodies.Count);
    }

    [Fact]
    public async Task A_webhook_that_does_not_answer_is_retried_and_without_a_webhook_nothing_is_sent()
    {
        using var tmp = new TempDir();
        using var store = await StoreWithOwnersAsync(tmp);

        // Nothing listens on the port: network errors, retried, then the day stays open.
        var port = FreePort.Next();

        using (var runner = Runner(store, $"http://127.0.0.1:{port}/hook", new TestClock(Morning), maxAttempts: 2))
        {
            Assert.Equal(DigestOutcome.Failed, await runner.RunAsync(Ct));
        }

        using (var runner = Runner(store, null, new TestClock(Morning)))
        {
            Assert.False(runner.Configured);
            Assert.Equal(DigestOutcome.NotConfigured, await runner.RunAsync(Ct));
        }

        Assert.True(await store.TryClaimDigestAsync(DateOnly.FromDateTime(Morning.UtcDateTime), [], Ct)); // nothing claimed the day
        Assert.Equal("Aims:Notifications:WebhookUrl must be an absolute http or https URL", new NotificationOptions { WebhookUrl = "ftp://example.org/x" }.Problem());
        Assert.Null(new NotificationOptions().Problem());
    }

    [Fact]
    public void Evidence_turning_stale_within_the_window_is_listed_with_its_day()
    {
        var report = new GapAnalyzer(IsoCatalog.Default).Analyze([], []);
        var today = new DateOnly(2026, 12, 3);
        var period = TimeSpan.FromDays(365);
        DateTimeOffset Newest(DateOnly staleOn) => new(staleOn.AddDays(-1).ToDateTime(TimeOnly.MinValue) - period, TimeSpan.Zero);
        var entries = report.Entries.Select(g => g.Entry.Id switch
        {
            "A.6.2.2" => g with { Status = GapStatus.Covered, NewestEvidence = Newest(today.AddDays(10)) },
            "A.2.2" => g with { Status = GapStatus.Weak, NewestEvidence = Newest(today.AddDays(40)) },   // beyond the window
            "6.1.2" => g with { Status = GapStatus.Stale, NewestEvidence = Newest(today.AddDays(-5)) }, // already stale
            _ => g,
        }).ToArray();

        var digest = DigestBuilder.Build(report with { Entries = entries }, [], new DigestRecord(today.AddDays(-1), Morning, report.Entries.Select(g => g.Entry.Id).ToArray()), today, period, 30);

        var stale = Assert.Single(digest.TurningStale);
        Assert.Equal(("A.6.2.2", today.AddDays(10)), (stale.EntryId, stale.StaleOn));
        Assert.Empty(digest.NewGaps);
        Assert.Contains("1 entry turning stale within 30 days", digest.Text, StringComparison.Ordinal);
        Assert.Contains($"A.6.2.2 {stale.Title}: stale from {today.AddDays(10):yyyy-MM-dd}", digest.Text, StringComparison.Ordinal);
    }
}
