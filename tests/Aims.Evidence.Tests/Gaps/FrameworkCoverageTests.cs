using System.Text.Json;
using Aims.Evidence.Api;
using Aims.Evidence.Cli;
using Aims.Evidence.Core.Catalog;
using Aims.Evidence.Core.Crosswalks;
using Aims.Evidence.Core.Gaps;
using Aims.Evidence.Core.Storage;
using Aims.Evidence.Hosting;
using Aims.Evidence.Local;

namespace Aims.Evidence.Tests.Gaps;

/// <summary>A framework requirement's status from its related ISO/IEC 42001 entries (FrameworkCoverage), and <c>aims gaps --framework</c> over a real SQLite file.</summary>
public sealed class FrameworkCoverageTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static readonly Citation PolicyCitation = new("doc-1", "ai-policy.md", "policy", 2, ["Commitments"], "p-1", "Top management commits ...", "m-1", 0.91, "trained", "policy statement", ReviewState.Accepted);

    /// <summary>A gap report in which every catalog entry is missing except the given ones.</summary>
    private static GapReport Report(Dictionary<string, GapStatus> statuses)
    {
        var entries = IsoCatalog.Default.Entries.Select(e =>
        {
            var status = statuses.GetValueOrDefault(e.Id, GapStatus.Missing);
            var evidence = status == GapStatus.Missing ? null : PolicyCitation;
            return new ControlGap(e, status, "reason of " + e.Id, evidence is null ? 0 : 0.91, evidence is null ? 0 : 2, evidence is null ? 0 : 1, evidence, [], null);
        }).ToArray();
        var none = new CoverageGroup("Overall", 0, 0, 0, 0, 0, 0);
        return new GapReport(DateTimeOffset.UnixEpoch, entries, [], [], none);
    }

    private static CrosswalkRequirement Row(string id, CrosswalkRelation relation, params string[] related) =>
        new() { Id = id, Title = "Requirement " + id, Group = "Test", Relation = relation, Related = related, Source = "https://example.org/" + id };

    private static Crosswalk Framework(params CrosswalkRequirement[] rows) =>
        new() { Id = "test", Title = "Test framework", Version = "1", Source = "https://example.org", Basis = "test", Requirements = rows };

    [Fact]
    public void Status_follows_the_related_entries_and_the_relation()
    {
        var report = Report(new()
        {
            ["4.1"] = GapStatus.Covered,
            ["4.2"] = GapStatus.Covered,
            ["5.2"] = GapStatus.Weak,
            ["6.1.2"] = GapStatus.Nonconformity,
            ["7.2"] = GapStatus.Stale,
            ["A.10.4"] = GapStatus.NotApplicable,
            ["A.10.3"] = GapStatus.NotApplicable,
        });
        var coverage = FrameworkCoverage.Compute(Framework(
            Row("covered", CrosswalkRelation.Equivalent, "4.1", "4.2"),
            Row("partial-by-relation", CrosswalkRelation.Partial, "4.1", "4.2"),
            Row("partial-by-evidence", CrosswalkRelation.Equivalent, "4.1", "5.1"),
            Row("weak-and-stale", CrosswalkRelation.Equivalent, "5.2", "7.2"),
            Row("missing", CrosswalkRelation.Equivalent, "5.1", "5.3"),
            Row("nonconformity", CrosswalkRelation.Equivalent, "4.1", "6.1.2"),
            Row("excluded", CrosswalkRelation.Partial, "A.10.4", "A.10.3"),
            Row("covered-with-an-exclusion", CrosswalkRelation.Equivalent, "4.1", "A.10.4"),
            Row("missing-with-an-exclusion", CrosswalkRelation.Equivalent, "5.1", "A.10.4"),
            Row("unrelated", CrosswalkRelation.None)), report);

        var status = coverage.Requirements.ToDictionary(r => r.Requirement.Id, r => r.Status);
        Assert.Equal(RequirementStatus.Covered, status["covered"]);
        Assert.Equal(RequirementStatus.Partial, status["partial-by-relation"]);
        Assert.Equal(RequirementStatus.Partial, status["partial-by-evidence"]);
        Assert.Equal(RequirementStatus.Partial, status["weak-and-stale"]);
        Assert.Equal(RequirementStatus.Missing, status["missing"]);
        Assert.Equal(RequirementStatus.Nonconformity, status["nonconformity"]);
        Assert.Equal(RequirementStatus.NotApplicable, status["excluded"]);
        Assert.Equal(RequirementStatus.Covered, status["covered-with-an-exclusion"]);
        Assert.Equal(RequirementStatus.Missing, status["missing-with-an-exclusion"]);
        Assert.Equal(RequirementStatus.OutOfScope, status["unrelated"]);

        var reason = coverage.Requirements.ToDictionary(r => r.Requirement.Id, r => r.Reason);
        Assert.Contains("address only part", reason["partial-by-relation"], StringComparison.Ordinal);
        Assert.Equal("1 of 2 related entries covered; 5.1 missing", reason["partial-by-evidence"]);
        Assert.Equal("0 of 2 related entries covered; 5.2 weak, 7.2 stale", reason["weak-and-stale"]);
        Assert.Equal("open finding against 6.1.2", reason["nonconformity"]);
        Assert.Contains("1 excluded by a reviewer", reason["covered-with-an-exclusion"], StringComparison.Ordinal);
        Assert.Contains("cannot show", reason["unrelated"], StringComparison.Ordinal);
        Assert.Equal((2, 3, 2, 1, 1, 1), (coverage.Count(RequirementStatus.Covered), coverage.Count(RequirementStatus.Partial), coverage.Count(RequirementStatus.Missing),
            coverage.Count(RequirementStatus.Nonconformity), coverage.Count(RequirementStatus.NotApplicable), coverage.Count(RequirementStatus.OutOfScope)));
    }

    [Fact]
    public void Related_entries_carry_their_status_reason_and_citation_into_the_api_view()
    {
        var report = Report(new() { ["4.1"] = GapStatus.Covered });
        var coverage = FrameworkCoverage.Compute(Framework(Row("r", CrosswalkRelation.Equivalent, "4.1", "4.2")), report);
        var related = coverage.Requirements.Single().Related;
        Assert.Equal(["4.1", "4.2"], related.Select(e => e.Id));
        Assert.Same(PolicyCitation, related[0].Evidence);
        Assert.Null(related[1].Evidence);
        Assert.Equal(GapStatus.Missing, related[1].Status);

        var view = FrameworkCoverageView.From(coverage);
        Assert.Equal(new FrameworkCounts(0, 1, 0, 0, 0, 0), view.Counts);
        var row = view.Requirements.Single();
        Assert.Equal(("partial", "equivalent", "https://example.org/r"), (row.Status, row.Relation, row.Source));
        var evidence = row.Related[0].Evidence!;
        Assert.Equal(("ai-policy.md", 2, "supports"), (evidence.DocumentName, evidence.Page, evidence.Polarity));
        Assert.Equal(PolicyCitation.Display, evidence.Display);
        Assert.Equal("covered", row.Related[0].Status);
    }

    [Fact]
    public void A_related_id_outside_the_report_is_an_error_not_a_silent_gap()
    {
        var ex = Assert.Throws<InvalidOperationException>(() => FrameworkCoverage.Compute(Framework(Row("r", CrosswalkRelation.Partial, "B.2.2")), Report([])));
        Assert.Contains("B.2.2", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    [Trait(Tiers.Name, Tiers.Integration)]
    public async Task Cli_prints_every_requirement_with_the_gap_reports_statuses_filters_and_follows_exclusions()
    {
        using var tmp = new TempDir();
        using (var aims = await LocalAims.OpenAsync(tmp.Db, new AimsSettings { Mapping = new() { Mapper = MapperKinds.Lexical } }, Ct))
        {
            var pipeline = aims.CreatePipeline();
            foreach (var file in Directory.GetFiles(TestPaths.SamplesDir).Order(StringComparer.Ordinal).Take(3))
            {
                await pipeline.IngestAsync(Path.GetFileName(file), await File.ReadAllBytesAsync(file, Ct), Ct);
            }
        }

        var gaps = await Cli.CliTests.Run("gaps", "--json", "--db", tmp.Db);
        Assert.Equal(ExitCodes.Ok, gaps.Code);
        var entryStatus = JsonDocument.Parse(gaps.Out).RootElement.GetProperty("entries").EnumerateArray()
            .ToDictionary(e => e.GetProperty("id").GetString()!, e => e.GetProperty("status").GetString()!);

        var result = await Cli.CliTests.Run("gaps", "--framework", "iso27001", "--json", "--db", tmp.Db);
        Assert.Equal(ExitCodes.Ok, result.Code);
        var body = JsonDocument.Parse(result.Out).RootElement;
        var rows = body.GetProperty("requirements").EnumerateArray().ToArray();
        Assert.Equal(123, rows.Length);
        Assert.Equal(123, body.GetProperty("framework").GetProperty("requirements").GetInt32());
        Assert.Equal(123, body.GetProperty("counts").EnumerateObject().Sum(p => p.Value.GetInt32()));
        var shipped = CrosswalkCatalog.Default.Frameworks[0].Requirements;
        Assert.Equal(shipped.Count(r => r.Related.Count == 0), body.GetProperty("counts").GetProperty("outOfScope").GetInt32());
        foreach (var row in rows)
        {
            Assert.StartsWith("https://", row.GetProperty("source").GetString(), StringComparison.Ordinal);
            foreach (var related in row.GetProperty("related").EnumerateArray())
            {
                // The very statuses of the ISO/IEC 42001 gap report, and a citation wherever it cites one.
                var id = related.GetProperty("id").GetString()!;
                Assert.Equal(entryStatus[id], related.GetProperty("status").GetString());
                Assert.Equal(entryStatus[id] != "missing", related.GetProperty("evidence").ValueKind == JsonValueKind.Object);
            }
        }

        Assert.Contains(rows, r => r.GetProperty("related").EnumerateArray().Any(e => e.GetProperty("evidence").ValueKind == JsonValueKind.Object));

        var outOfScope = await Cli.CliTests.Run("gaps", "--framework", "iso27001", "--status", "outOfScope", "--json", "--db", tmp.Db);
        var filtered = JsonDocument.Parse(outOfScope.Out).RootElement.GetProperty("requirements").EnumerateArray().ToArray();
        Assert.NotEmpty(filtered);
        Assert.All(filtered, r => Assert.Equal("outOfScope", r.GetProperty("status").GetString()));

        // A.5.19 (supplier relationships) relates to A.10.3 only: excluding A.10.3 makes it not applicable.
        Assert.Equal(ExitCodes.Ok, (await Cli.CliTests.Run("applicability", "A.10.3", "--exclude", "--justification", "No AI suppliers.", "--db", tmp.Db)).Code);
        var text = await Cli.CliTests.Run("gaps", "--framework", "ISO27001", "--db", tmp.Db);
        Assert.Equal(ExitCodes.Ok, text.Code);
        Assert.Contains("ISO/IEC 27001:2022", text.Out, StringComparison.Ordinal);
        var line = text.Out.Split('\n').Single(l => l.TrimStart().StartsWith("A.5.19 ", StringComparison.Ordinal));
        Assert.Contains("notApplicable", line, StringComparison.Ordinal);
        Assert.Contains("123 requirements:", text.Out, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("soc2", "unknown framework 'soc2'")]
    [InlineData("iso27001 --status weak", "unknown status 'weak' for a framework")]
    public async Task Unknown_framework_or_status_is_one_error_line_and_exit_2(string args, string error)
    {
        using var tmp = new TempDir();
        var result = await Cli.CliTests.Run(["gaps", "--framework", .. args.Split(' '), "--db", tmp.Db]);
        Assert.Equal(ExitCodes.Usage, result.Code);
        Assert.Empty(result.Out);
        Assert.Single(result.Err.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains(error, result.Err, StringComparison.Ordinal);
    }
}
