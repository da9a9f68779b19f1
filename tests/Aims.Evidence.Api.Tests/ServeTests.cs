using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Aims.Evidence.Cli;
using Aims.Evidence.Core.Pipeline;
using Aims.Evidence.Core.Storage;
using Aims.Evidence.Local;
using Aims.Evidence.Sqlite;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Playwright;

namespace Aims.Evidence.Api.Tests;

/// <summary>`aims serve` on a real Kestrel at 127.0.0.1 (port chosen by the OS) over a temp SQLite file.</summary>
public sealed class ServerFixture : IAsyncLifetime
{
    public string Dir { get; } = Path.Combine(Path.GetTempPath(), "aims-serve-tests-" + Guid.NewGuid().ToString("N"));

    public string Inbox => Path.Combine(Dir, "inbox");

    public LocalAims Aims { get; private set; } = null!;

    public WebApplication App { get; private set; } = null!;

    public string Url { get; private set; } = string.Empty;

    public string ReviewerKey { get; private set; } = string.Empty;

    public async ValueTask InitializeAsync()
    {
        Directory.CreateDirectory(Inbox);
        Aims = await LocalAims.OpenAsync(Path.Combine(Dir, "aims.db"));
        await ApiFixture.IngestSamplesAsync(Aims);
        ReviewerKey = (await Aims.Store.CreateApiKeyAsync(ApiRole.Reviewer, "test")).Key;
        App = AimsServer.Build(Aims, Inbox, "http://127.0.0.1:0");
        await App.StartAsync();
        Url = App.Urls.First().TrimEnd('/');
    }

    public HttpClient Client()
    {
        var client = new HttpClient { BaseAddress = new Uri(Url) };
        client.DefaultRequestHeaders.Add("X-Api-Key", ReviewerKey);
        return client;
    }

    public async ValueTask DisposeAsync()
    {
        await App.StopAsync();
        await App.DisposeAsync();
        ApiFixture.CloseAndDelete(Aims, Dir);
    }
}

[Trait(Tiers.Name, Tiers.Integration)]
public sealed class ServeTests(ServerFixture fx) : IClassFixture<ServerFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Inbox_watcher_ingests_new_files_once_by_hash()
    {
        using var client = fx.Client();
        var before = JsonNode.Parse(await client.GetStringAsync("/api/v1/documents", Ct))!["items"]!.AsArray().Count;
        var source = Path.Combine(TestPaths.RepoRoot, "samples", "impact-assessment-assistant.html");
        File.Copy(source, Path.Combine(fx.Inbox, "impact.html"));
        var count = await WaitForDocumentsAsync(client, before + 1);
        Assert.Equal(before + 1, count);

        // The same bytes under another name: the watcher reports the copy Unchanged (waited for, so a dead watcher
        // fails the test) and nothing new is stored.
        var watcher = fx.App.Services.GetServices<IHostedService>().OfType<InboxIngestionService>().Single();
        var copied = new TaskCompletionSource<IngestOutcome>(TaskCreationOptions.RunContinuationsAsynchronously);
        void OnIngested(object? sender, IngestOutcome outcome)
        {
            if (outcome.Name.EndsWith("impact-copy.html", StringComparison.Ordinal))
            {
                copied.TrySetResult(outcome);
            }
        }

        watcher.Ingested += OnIngested;
        try
        {
            File.Copy(source, Path.Combine(fx.Inbox, "impact-copy.html"));
            var outcome = await copied.Task.WaitAsync(TimeSpan.FromSeconds(30), Ct);
            Assert.Equal(IngestStatus.Unchanged, outcome.Status);
        }
        finally
        {
            watcher.Ingested -= OnIngested;
        }

        Assert.Equal(before + 1, JsonNode.Parse(await client.GetStringAsync("/api/v1/documents", Ct))!["items"]!.AsArray().Count);
    }

    [Fact]
    public async Task Keys_create_prints_the_key_alone_on_its_last_line_and_stores_only_its_hash()
    {
        var db = Path.Combine(fx.Dir, "keys.db");
        using var output = new StringWriter();
        using var error = new StringWriter();
        var code = await AimsCli.RunAsync(["keys", "create", "--role", "reviewer", "--db", db], output, error);
        Assert.Equal(0, code);
        var key = output.ToString().TrimEnd().Split('\n')[^1].Trim();
        Assert.StartsWith("aims_", key, StringComparison.Ordinal);
        using var store = new SqliteEvidenceStore(db);
        var record = await store.FindApiKeyAsync(ApiKeys.Hash(key), Ct);
        Assert.Equal(ApiRole.Reviewer, record?.Role);
        Assert.Equal(2, await AimsCli.RunAsync(["keys", "create", "--role", "root", "--db", db], output, error));
    }

    [Fact]
    [Trait(Tiers.Name, Tiers.Slow)]
    public async Task Dashboard_in_a_real_browser_shows_74_cells_a_framework_selector_searches_accepts_a_suggestion_and_assigns_an_owner_whose_task_is_overdue()
    {
        HeadlessChromium.Require();

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await HeadlessChromium.LaunchAsync(playwright);
        var page = await browser.NewPageAsync();
        var cspErrors = new List<string>();
        page.Console += (_, m) =>
        {
            if (m.Text.Contains("Content Security Policy", StringComparison.OrdinalIgnoreCase))
            {
                cspErrors.Add(m.Text);
            }
        };
        await page.GotoAsync(fx.Url + "/");
        await page.FillAsync("#api-key", fx.ReviewerKey);
        await page.ClickAsync("#key-form button[type=submit]");
        await Assertions.Expect(page.Locator("#heatmap .cell")).ToHaveCountAsync(74);

        // The framework selector: ISO/IEC 27001 first (123 requirements), then the NIST AI RMF's 72 subcategories.
        await Assertions.Expect(page.Locator("#framework option")).ToHaveCountAsync(3);
        await Assertions.Expect(page.Locator("#framework-coverage tbody tr")).ToHaveCountAsync(123);
        await page.SelectOptionAsync("#framework", "nist-ai-rmf");
        await Assertions.Expect(page.Locator("#framework-coverage")).ToHaveAttributeAsync("data-framework", "nist-ai-rmf");
        await Assertions.Expect(page.Locator("#framework-coverage tbody tr")).ToHaveCountAsync(72);
        var govern = page.Locator("#framework-coverage tbody tr[data-id='GOVERN 1.1']");
        await Assertions.Expect(govern.Locator("td").Nth(2)).ToHaveTextAsync(new System.Text.RegularExpressions.Regex("^(covered|partial|missing|nonconformity|notApplicable)$"));
        await Assertions.Expect(govern.Locator("button.badge")).ToHaveCountAsync(2);
        await govern.Locator("button.badge").First.ClickAsync();
        await Assertions.Expect(page.Locator("#detail-title")).ToHaveTextAsync(new System.Text.RegularExpressions.Regex("^4\\.1 "));

        await page.FillAsync("#search-q", "risk assessment");
        await page.ClickAsync("#search-form button");
        await Assertions.Expect(page.Locator("#search-results li").First).ToBeVisibleAsync();

        var cell = page.Locator("#heatmap .cell:not(.container)[data-status=weak], #heatmap .cell:not(.container)[data-status=suggested]").First;
        var id = await cell.GetAttributeAsync("data-id");
        await cell.ClickAsync();
        await page.Locator("#detail-evidence button.accept").First.ClickAsync();
        await Assertions.Expect(page.Locator("#detail-status")).ToHaveAttributeAsync("data-status", "covered");
        await Assertions.Expect(page.Locator($"#heatmap .cell[data-id='{id}']")).ToHaveAttributeAsync("data-status", "covered");

        // A finding the model misread: the reviewer accepts it as support and the entry stops being a nonconformity.
        string? ncId = null;
        foreach (var nc in await page.Locator("#heatmap .cell:not(.container)[data-status=nonconformity]").AllAsync())
        {
            var candidate = await nc.GetAttributeAsync("data-id");
            await nc.ClickAsync();
            await Assertions.Expect(page.Locator("#detail-title")).ToContainTextAsync(candidate!);
            if (await page.Locator("#detail-evidence button.polarity", new() { HasTextString = "Accept as support, not a finding" }).CountAsync() == 1)
            {
                ncId = candidate;
                break;
            }
        }

        Assert.NotNull(ncId);
        await page.Locator("#detail-evidence button.polarity", new() { HasTextString = "Accept as support, not a finding" }).ClickAsync();
        await Assertions.Expect(page.Locator("#message")).ToHaveTextAsync("Mapping accepted as support.");
        await Assertions.Expect(page.Locator($"#heatmap .cell[data-id='{ncId}']")).Not.ToHaveAttributeAsync("data-status", "nonconformity");

        // Owners: a reviewer assigns a missing entry with a past due date; it shows in the detail, the gaps table and
        // the overdue tasks; cleared again, it leaves the overdue list.
        var missing = page.Locator("#heatmap .cell:not(.container)[data-status=missing]").First;
        var missingId = await missing.GetAttributeAsync("data-id");
        await missing.ClickAsync();
        await Assertions.Expect(page.Locator("#detail-owner")).ToHaveTextAsync("No owner.");
        await page.FillAsync("#owner-name", "alice@example.org");
        await page.FillAsync("#owner-due", "2020-01-31");
        await page.ClickAsync("#owner-form button[type=submit]");
        await Assertions.Expect(page.Locator("#detail-owner")).ToHaveTextAsync("Owner: alice@example.org, due 2020-01-31");
        var task = page.Locator($"#tasks tbody tr[data-id='{missingId}']");
        await Assertions.Expect(task).ToHaveCountAsync(1);
        await Assertions.Expect(task.Locator("td.overdue")).ToHaveTextAsync("2020-01-31");
        await Assertions.Expect(page.Locator("#task-counts")).ToContainTextAsync("1 of 1 open tasks overdue");
        await Assertions.Expect(page.Locator($"#gaps tbody tr[data-id='{missingId}'] td.owner")).ToHaveTextAsync("alice@example.org, due 2020-01-31");
        Directory.CreateDirectory(Path.Combine(TestPaths.RepoRoot, "TestResults"));
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(TestPaths.RepoRoot, "TestResults", "dashboard-tasks.png"), FullPage = true });
        await page.ClickAsync("#owner-clear");
        await Assertions.Expect(page.Locator("#detail-owner")).ToHaveTextAsync("No owner.");
        await Assertions.Expect(page.Locator("#tasks tbody tr")).ToHaveCountAsync(0);

        var dir = Path.Combine(TestPaths.RepoRoot, "TestResults");
        Directory.CreateDirectory(dir);
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(dir, "dashboard.png"), FullPage = true });
        Assert.Empty(cspErrors);
    }

    private static async Task<int> WaitForDocumentsAsync(HttpClient client, int expected)
    {
        var count = 0;
        for (var i = 0; i < 120 && count < expected; i++)
        {
            var response = await client.GetAsync("/api/v1/documents", Ct);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            count = (await response.Content.ReadFromJsonAsync<JsonObject>(Ct))!["items"]!.AsArray().Count;
            if (count < expected)
            {
                await Task.Delay(250, Ct);
            }
        }

        return count;
    }
}
