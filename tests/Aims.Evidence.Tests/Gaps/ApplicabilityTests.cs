using System.Text.Json;
using Aims.Evidence.Api;
using Aims.Evidence.Cli;
using Aims.Evidence.Core.Gaps;
using Aims.Evidence.Hosting;
using Aims.Evidence.Local;

namespace Aims.Evidence.Tests.Gaps;

/// <summary>Applicability decisions (ISO/IEC 42001 6.1.3) over a real SQLite file: gap report, counts, SoA, audit, CLI.</summary>
public sealed class ApplicabilityTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static Task<(int Code, string Out, string Err)> Run(params string[] args) => Cli.CliTests.Run(args);

    [Fact]
    public async Task An_excluded_entry_leaves_the_counts_and_the_soa_shows_every_decision_with_its_justification()
    {
        using var tmp = new TempDir();
        using (var aims = await LocalAims.OpenAsync(tmp.Db, new AimsSettings { Mapping = new() { Mapper = MapperKinds.Lexical } }, Ct))
        {
            var pipeline = aims.CreatePipeline();
            foreach (var file in Directory.GetFiles(TestPaths.SamplesDir).Order(StringComparer.Ordinal).Take(3))
            {
                await pipeline.IngestAsync(Path.GetFileName(file), await File.ReadAllBytesAsync(file, Ct), Ct);
            }

            var before = await aims.Evidence.GetGapReportAsync(Ct);
            Assert.NotEqual(GapStatus.NotApplicable, before.Entries.Single(e => e.Entry.Id == "A.10.4").Status);

            await aims.Store.SetApplicabilityAsync("A.10.4", applicable: false, "We provide no AI system to customers.", "reviewer", Ct);
            await aims.Store.SetApplicabilityAsync("A.6.2.2", applicable: true, "We build our own models.", "reviewer", Ct);

            // The cached report is replaced: an applicability change is a write.
            var after = await aims.Evidence.GetGapReportAsync(Ct);
            var excluded = after.Entries.Single(e => e.Entry.Id == "A.10.4");
            Assert.Equal(GapStatus.NotApplicable, excluded.Status);
            Assert.Contains("We provide no AI system to customers.", excluded.Reason, StringComparison.Ordinal);
            Assert.Equal(before.Overall.Total - 1, after.Overall.Total);
            Assert.Equal("notApplicable", GapAnalyzer.StatusText(excluded.Status));

            var soa = await AimsEvidenceApi.BuildSoaAsync(aims.Evidence, Ct);
            var row = soa.Single(r => r.ControlId == "A.10.4");
            Assert.Equal("no", row.Applicable);
            Assert.Equal("We provide no AI system to customers.", row.Justification);
            var included = soa.Single(r => r.ControlId == "A.6.2.2");
            Assert.Equal("yes", included.Applicable);
            Assert.Equal("We build our own models.", included.Justification);

            var audit = (await aims.Store.ListAuditAsync(0, 1000, Ct)).Where(a => a.Action == "control.applicability").ToList();
            Assert.Equal(["A.10.4", "A.6.2.2"], audit.Select(a => a.Target));

            // Included again: back in the counts.
            await aims.Store.SetApplicabilityAsync("A.10.4", applicable: true, "Customers now use our scoring API.", "reviewer", Ct);
            var again = await aims.Evidence.GetGapReportAsync(Ct);
            Assert.NotEqual(GapStatus.NotApplicable, again.Entries.Single(e => e.Entry.Id == "A.10.4").Status);
            Assert.Equal(before.Overall.Total, again.Overall.Total);
        }

        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();

        // The CLI: aims applicability records, aims soa prints it.
        var excludeCli = await Run("applicability", "A.7.5", "--exclude", "--justification", "No personal data is used.", "--db", tmp.Db);
        Assert.Equal(ExitCodes.Ok, excludeCli.Code);
        var json = await Run("soa", "--json", "--db", tmp.Db);
        Assert.Equal(ExitCodes.Ok, json.Code);
        var rows = JsonDocument.Parse(json.Out).RootElement.EnumerateArray().ToArray();
        var a75 = rows.Single(r => r.GetProperty("controlId").GetString() == "A.7.5");
        Assert.Equal("no", a75.GetProperty("applicable").GetString());
        Assert.Equal("No personal data is used.", a75.GetProperty("justification").GetString());
        Assert.Equal("notApplicable", a75.GetProperty("status").GetString());
        var text = await Run("soa", "--db", tmp.Db);
        Assert.Contains("No personal data is used.", text.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_cli_refuses_an_exclusion_without_justification_an_unknown_entry_and_a_missing_database()
    {
        using var tmp = new TempDir();
        Assert.Equal(ExitCodes.Usage, (await Run("applicability", "A.7.5", "--exclude", "--db", tmp.Db)).Code);
        Assert.Equal(ExitCodes.Usage, (await Run("applicability", "Z.1", "--include", "--db", tmp.Db)).Code);
        Assert.Equal(ExitCodes.Usage, (await Run("applicability", "9.2", "--include", "--db", tmp.Db)).Code); // a container

        var missing = await Run("soa", "--db", tmp.Db);
        Assert.Equal(ExitCodes.Error, missing.Code);
        Assert.Contains("no such database", missing.Err, StringComparison.Ordinal);
        Assert.False(File.Exists(tmp.Db));
    }
}
