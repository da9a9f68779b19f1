using System.Text.Json.Nodes;
using Aims.Evidence.Cli;

namespace Aims.Evidence.Api.Tests;

/// <summary>
/// <c>aims ... --json</c> prints the API's DTOs in the API's JSON: over the same database, the CLI's bodies equal the
/// API's (names, value forms such as "clause"/"control", passageCount, camelCase statuses) item for item.
/// </summary>
public sealed class CliJsonTests(ApiFixture fx) : IClassFixture<ApiFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private string Db => Path.Combine(fx.Dir, "aims.db");

    private static async Task<JsonNode> Cli(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var code = await AimsCli.RunAsync(args, output, error);
        Assert.True(code == ExitCodes.Ok, $"aims {string.Join(' ', args)} exited {code}: {error}");
        return JsonNode.Parse(output.ToString())!;
    }

    /// <summary>Every item of a paged API list, following the continuation tokens.</summary>
    private async Task<JsonArray> ApiItems(string route)
    {
        using var client = fx.Client(fx.ReaderKey);
        var items = new JsonArray();
        string? token = null;
        do
        {
            var separator = route.Contains('?', StringComparison.Ordinal) ? "&" : "?";
            var url = route + (token is null ? string.Empty : separator + "continuationToken=" + Uri.EscapeDataString(token));
            using var response = await client.GetAsync(url, Ct);
            response.EnsureSuccessStatusCode();
            var page = JsonNode.Parse(await response.Content.ReadAsStringAsync(Ct))!;
            foreach (var item in page["items"]!.AsArray())
            {
                items.Add(item!.DeepClone());
            }

            token = page["continuationToken"]?.GetValue<string>();
        }
        while (token is not null);
        return items;
    }

    private static void AssertSame(JsonNode expected, JsonNode? actual) =>
        Assert.True(JsonNode.DeepEquals(expected, actual), $"expected {expected.ToJsonString()}\nactual   {actual?.ToJsonString()}");

    [Fact]
    public async Task Controls_are_the_api_control_summaries()
    {
        var cli = (await Cli("controls", "--json", "--db", Db)).AsArray();
        var api = await ApiItems("/api/v1/controls");
        Assert.Equal(74, cli.Count);
        AssertSame(api, cli);
        Assert.Contains(cli, c => c!["kind"]!.GetValue<string>() == "clause");
        Assert.Contains(cli, c => c!["kind"]!.GetValue<string>() == "control");
        Assert.All(cli, c => Assert.NotNull(c!["passageCount"]));
    }

    [Fact]
    public async Task Gaps_are_the_api_coverage_and_control_summaries_with_their_best_evidence()
    {
        var cli = await Cli("gaps", "--json", "--db", Db);
        using var client = fx.Client(fx.ReaderKey);
        var coverage = JsonNode.Parse(await client.GetStringAsync("/api/v1/coverage", Ct))!;
        foreach (var key in new[] { "overall", "clauses", "objectives" })
        {
            AssertSame(coverage[key]!, cli[key]);
        }

        var controls = (await ApiItems("/api/v1/controls")).ToDictionary(c => c!["id"]!.GetValue<string>());
        var entries = cli["entries"]!.AsArray();
        Assert.Equal(74, entries.Count);
        var cited = 0;
        foreach (var entry in entries.Select(e => e!.AsObject().DeepClone().AsObject()))
        {
            if (entry["bestEvidence"] is JsonObject best)
            {
                // The API's citation of GET /controls/{id}: document, page, section, passage, score, polarity.
                Assert.False(string.IsNullOrEmpty(best["documentName"]!.GetValue<string>()));
                Assert.True(best["page"]!.GetValue<int>() >= 1);
                Assert.Equal(entry["id"]!.GetValue<string>(), best["controlId"]!.GetValue<string>());
                cited++;
            }

            entry.Remove("bestEvidence");
            AssertSame(controls[entry["id"]!.GetValue<string>()]!, entry);
        }

        Assert.True(cited > 0);
    }

    [Fact]
    public async Task Status_documents_and_search_results_are_the_api_bodies()
    {
        var status = await Cli("status", "--json", "--db", Db);
        AssertSame(await ApiItems("/api/v1/documents"), status["documents"]);

        // The first page of five is the CLI's top five.
        var search = await Cli("search", "intended use", "--limit", "5", "--json", "--db", Db);
        using var client = fx.Client(fx.ReaderKey);
        var page = JsonNode.Parse(await client.GetStringAsync("/api/v1/search?q=" + Uri.EscapeDataString("intended use") + "&limit=5", Ct))!;
        Assert.Equal(5, page["items"]!.AsArray().Count);
        AssertSame(page["items"]!, search);
    }

    [Fact]
    public async Task Inventory_is_the_api_ai_system_list()
    {
        var cli = await Cli("inventory", "--json", "--db", Db);
        using var client = fx.Client(fx.ReaderKey);
        var api = JsonNode.Parse(await client.GetStringAsync("/api/v1/ai-systems", Ct))!;
        AssertSame(api, cli);
        var systems = cli["systems"]!.AsArray();
        Assert.Equal(systems.Count, cli["count"]!.GetValue<int>());
        Assert.Contains(systems, s => s!["name"]!.GetValue<string>() == "CPS-2 Credit Pre-Screening Model");
        Assert.All(systems, s => Assert.NotEmpty(s!["documents"]!.AsArray()));
    }
}
