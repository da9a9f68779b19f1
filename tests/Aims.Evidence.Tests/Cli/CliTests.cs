using System.Text.Json;
using Aims.Evidence.Cli;

namespace Aims.Evidence.Tests.Cli;

[Trait(Tiers.Name, Tiers.Integration)]
public class CliTests
{
    /// <summary>Runs the CLI in process with captured output (shared by the tests of other commands).</summary>
    internal static async Task<(int Code, string Out, string Err)> Run(params string[] args)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var code = await AimsCli.RunAsync(args, stdout, stderr);
        return (code, stdout.ToString(), stderr.ToString());
    }

    [Fact]
    public async Task Demo_reports_the_audit_nonconformities_and_never_covers_what_the_samples_leave_missing()
    {
        using var tmp = new TempDir();
        var demo = await Run("demo", "--samples", TestPaths.SamplesDir, "--db", tmp.Db, "--json");
        Assert.Equal(ExitCodes.Ok, demo.Code);

        // The output is the ingestion summary, then the gap report: read the last JSON value.
        var reader = new Utf8JsonReader(System.Text.Encoding.UTF8.GetBytes(demo.Out), new JsonReaderOptions { AllowMultipleValues = true });
        JsonElement report = default;
        while (JsonDocument.TryParseValue(ref reader, out var value))
        {
            report = value!.RootElement.Clone();
            value.Dispose();
        }

        var status = report.GetProperty("entries").EnumerateArray().ToDictionary(e => e.GetProperty("id").GetString()!, e => e.GetProperty("status").GetString()!);

        // docs/SAMPLES.md: context, interested parties, objectives, communication, management review, external
        // reporting, incident communication and customer-facing information are missing on purpose or only findings.
        foreach (var id in new[] { "4.1", "4.2", "6.2", "7.4", "9.3.1", "9.3.2", "9.3.3", "A.8.2", "A.8.3", "A.8.4", "A.8.5" })
        {
            Assert.True(status[id] != "covered", $"{id} is reported covered");
        }

        // The internal audit report's nonconformities: NC-1 scope (4.3), NC-2 AI risk assessment (6.1.2), NC-3 no
        // management review (9.3.1).
        foreach (var id in new[] { "4.3", "6.1.2", "9.3.1" })
        {
            Assert.True(status[id] == "nonconformity", $"{id} is {status[id]}, not a nonconformity");
        }

        // Each says what made its passage a finding: the polarity model's probability against its threshold, which the
        // SQLite store keeps with the passage's candidates.
        foreach (var e in report.GetProperty("entries").EnumerateArray().Where(e => e.GetProperty("status").GetString() == "nonconformity"))
        {
            Assert.Matches(@"; it states a finding with probability 0\.\d{3}, threshold 0\.\d+\): ", e.GetProperty("reason").GetString());
        }

        // Nonconformities come first.
        var order = report.GetProperty("entries").EnumerateArray().Select(e => e.GetProperty("status").GetString()).ToArray();
        Assert.Equal(order.OrderBy(s => s == "nonconformity" ? 0 : 1), order);
    }

    [Fact]
    public async Task Usage_errors_exit_with_2()
    {
        using var tmp = new TempDir();
        Assert.Equal(ExitCodes.Usage, (await Run("ingest", "--db", tmp.Db)).Code);
        Assert.Equal(ExitCodes.Usage, (await Run("frobnicate")).Code);
        var missing = await Run("ingest", Path.Combine(tmp.Path, "does-not-exist"), "--db", tmp.Db);
        Assert.Equal(ExitCodes.Usage, missing.Code);
        Assert.Contains("no such file", missing.Err, StringComparison.Ordinal);
        Assert.Equal(ExitCodes.Usage, (await Run("export", "passages", "--format", "xml", "--db", tmp.Db)).Code);
        Assert.Equal(ExitCodes.Usage, (await Run("gaps", "--status", "bogus", "--db", tmp.Db)).Code);
    }

    [Fact]
    public async Task Ingest_exits_0_when_all_processed_and_3_when_some_failed_naming_them()
    {
        using var tmp = new TempDir();
        var docs = Path.Combine(tmp.Path, "docs");
        tmp.File("docs/policy.md", "# AI policy\n\nAll AI systems must be registered in the AI inventory and approved by the AI governance board before deployment.\n");
        tmp.File("docs/picture.png", new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 0 });
        var ok = await Run("ingest", docs, "--db", tmp.Db, "--json");
        Assert.Equal(ExitCodes.Ok, ok.Code);
        using (var json = JsonDocument.Parse(ok.Out))
        {
            var outcomes = json.RootElement.GetProperty("documents").EnumerateArray().ToDictionary(d => d.GetProperty("name").GetString()!, d => d.GetProperty("outcome").GetString());
            Assert.Equal("processed", outcomes["policy.md"]);
            Assert.Equal("skipped", outcomes["picture.png"]);
        }

        tmp.File("docs/broken.pdf", "%PDF-1.7\n1 0 obj <<"u8.ToArray());
        var failed = await Run("ingest", docs, "--db", tmp.Db);
        Assert.Equal(ExitCodes.DocumentsFailed, failed.Code);
        Assert.Contains("broken.pdf", failed.Err, StringComparison.Ordinal);
        Assert.Contains("unchanged", failed.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Status_json_lists_documents_with_status_reason_type_and_version()
    {
        using var tmp = new TempDir();
        tmp.File("in/model-card.md", "# Model card\n\n## Intended use\n\nThe model is intended to pre-screen consumer loan applications; it is out of scope for employment decisions.\n");
        tmp.File("in/empty.txt", string.Empty);
        await Run("ingest", Path.Combine(tmp.Path, "in"), "--db", tmp.Db);
        var status = await Run("status", "--json", "--db", tmp.Db);
        Assert.Equal(ExitCodes.Ok, status.Code);
        using var json = JsonDocument.Parse(status.Out);
        var docs = json.RootElement.GetProperty("documents").EnumerateArray().ToArray();
        Assert.Equal(2, docs.Length);
        foreach (var key in new[] { "id", "name", "status", "reason", "docType", "version" })
        {
            Assert.All(docs, d => Assert.True(d.TryGetProperty(key, out _), $"missing {key}"));
        }

        var empty = docs.Single(d => d.GetProperty("name").GetString() == "empty.txt");
        Assert.Equal("failed", empty.GetProperty("status").GetString());
        Assert.Contains("empty", empty.GetProperty("reason").GetString()!, StringComparison.OrdinalIgnoreCase);
        var card = docs.Single(d => d.GetProperty("name").GetString() == "model-card.md");
        Assert.Equal("processed", card.GetProperty("status").GetString());
        Assert.Equal(1, card.GetProperty("version").GetInt32());
    }

    [Fact]
    public async Task Export_passages_writes_exactly_the_documented_schema()
    {
        using var tmp = new TempDir();
        var samples = await Run("ingest", TestPaths.SamplesDir, "--db", tmp.Db);
        Assert.Equal(ExitCodes.Ok, samples.Code);
        var outFile = Path.Combine(tmp.Path, "passages.jsonl");
        var export = await Run("export", "passages", "--format", "jsonl", "--out", outFile, "--db", tmp.Db);
        Assert.Equal(ExitCodes.Ok, export.Code);
        var lines = await File.ReadAllLinesAsync(outFile, TestContext.Current.CancellationToken);
        Assert.True(lines.Length > 50);
        var withMappings = 0;
        foreach (var line in lines)
        {
            using var json = JsonDocument.Parse(line);
            var root = json.RootElement;
            Assert.Equal(["document", "passage", "mappings"], root.EnumerateObject().Select(p => p.Name));
            Assert.Equal(["id", "name", "sha256", "docType", "docTypeConfidence", "status"], root.GetProperty("document").EnumerateObject().Select(p => p.Name));
            Assert.Equal(["id", "ordinal", "page", "headings", "text"], root.GetProperty("passage").EnumerateObject().Select(p => p.Name));
            var scores = new List<double>();
            foreach (var m in root.GetProperty("mappings").EnumerateArray())
            {
                Assert.Equal(["controlId", "score", "method", "rationale"], m.EnumerateObject().Select(p => p.Name));
                scores.Add(m.GetProperty("score").GetDouble());
            }

            Assert.Equal(scores.OrderByDescending(s => s), scores);
            withMappings += scores.Count > 0 ? 1 : 0;
        }

        Assert.True(withMappings > 0);
    }

    [Fact]
    public async Task Gaps_and_search_print_citations()
    {
        using var tmp = new TempDir();
        await Run("ingest", TestPaths.SamplesDir, "--db", tmp.Db);
        var gaps = await Run("gaps", "--json", "--db", tmp.Db);
        Assert.Equal(ExitCodes.Ok, gaps.Code);
        using (var json = JsonDocument.Parse(gaps.Out))
        {
            var entries = json.RootElement.GetProperty("entries").EnumerateArray().ToArray();
            Assert.Equal(74, entries.Length);
            var statuses = entries.Select(e => e.GetProperty("status").GetString()).ToHashSet();
            Assert.Contains("missing", statuses);
            var evidenced = entries.First(e => e.TryGetProperty("bestEvidence", out var best) && best.ValueKind == JsonValueKind.Object).GetProperty("bestEvidence");
            Assert.False(string.IsNullOrEmpty(evidenced.GetProperty("documentName").GetString()));
            Assert.False(string.IsNullOrEmpty(evidenced.GetProperty("display").GetString()));
            Assert.True(evidenced.GetProperty("page").GetInt32() >= 1);
        }

        var search = await Run("search", "intended use", "--json", "--db", tmp.Db);
        using var hits = JsonDocument.Parse(search.Out);
        var first = hits.RootElement.EnumerateArray().First();
        Assert.Equal("model-card-credit-prescreen.md", first.GetProperty("documentName").GetString());
        var hostile = await Run("search", "\"; DROP TABLE documents; -- NEAR( * OR", "--db", tmp.Db);
        Assert.Equal(ExitCodes.Ok, hostile.Code);
    }

    [Theory]
    [InlineData(-0.0002, "+0.000")]
    [InlineData(0.0, "+0.000")]
    [InlineData(0.0806, "+0.081")]
    [InlineData(-0.0125, "-0.013")]
    public void Eval_differences_carry_one_sign(double difference, string printed) => Assert.Equal(printed, AimsCli.WithSign(difference));
}
