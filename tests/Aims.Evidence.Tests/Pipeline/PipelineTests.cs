using System.Text;
using Aims.Evidence.Core.Gaps;
using Aims.Evidence.Core.Pipeline;
using Aims.Evidence.Core.Storage;
using Aims.Evidence.Local;

namespace Aims.Evidence.Tests.Pipeline;

[Trait(Tiers.Name, Tiers.Integration)]
public class PipelineTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Samples_end_to_end_give_types_mappings_and_a_gap_report()
    {
        using var tmp = new TempDir();
        using var aims = await LocalAims.OpenAsync(tmp.Db, cancellationToken: Ct);
        var pipeline = aims.CreatePipeline();
        var outcomes = new List<IngestOutcome>();
        foreach (var file in Directory.GetFiles(TestPaths.SamplesDir))
        {
            outcomes.Add(await pipeline.IngestAsync(Path.GetFileName(file), await File.ReadAllBytesAsync(file, Ct), Ct));
        }

        Assert.All(outcomes, o => Assert.Equal(IngestStatus.Processed, o.Status));
        var types = outcomes.ToDictionary(o => o.Name, o => o.Document!.DocType);
        Assert.Equal("policy", types["ai-policy.md"]);
        Assert.Equal("model-card", types["model-card-credit-prescreen.md"]);
        Assert.Equal("procedure", types["model-change-procedure.docx"]);
        Assert.Equal("audit-report", types["internal-audit-report-2026.pdf"]);
        Assert.Equal("impact-assessment", types["impact-assessment-assistant.html"]);
        Assert.Equal("unrelated", types["office-relocation-notice.txt"]);

        var unrelated = outcomes.Single(o => o.Name == "office-relocation-notice.txt").Document!;
        var unrelatedPassages = await aims.Store.GetPassagesAsync(unrelated.Id, Ct);
        Assert.NotEmpty(unrelatedPassages);
        Assert.All(unrelatedPassages, p => Assert.Empty(p.Mappings));

        var policy = outcomes.Single(o => o.Name == "ai-policy.md").Document!;
        var policyPassages = await aims.Store.GetPassagesAsync(policy.Id, Ct);
        Assert.Contains(policyPassages, p => p.Mappings.Any(m => m.ControlId is "5.2" or "A.2.2"));
        Assert.All(policyPassages.SelectMany(p => p.Mappings), m =>
        {
            Assert.InRange(m.Score, 0, 1);
            Assert.False(string.IsNullOrWhiteSpace(m.Rationale));
        });

        var report = await aims.Evidence.GetGapReportAsync(Ct);
        Assert.Equal(74, report.Entries.Count);
        Assert.Contains(report.Entries, g => g.Status == GapStatus.Covered);
        Assert.Contains(report.Entries, g => g.Status == GapStatus.Missing);
        var covered = report.Entries.First(g => g.Status == GapStatus.Covered && !g.Entry.Container);
        Assert.NotNull(covered.BestEvidence);
        Assert.True(covered.BestEvidence!.Page >= 1);
    }

    [Fact]
    public async Task Same_bytes_again_change_nothing_and_a_changed_file_becomes_a_new_version()
    {
        using var tmp = new TempDir();
        using var aims = await LocalAims.OpenAsync(tmp.Db, cancellationToken: Ct);
        var pipeline = aims.CreatePipeline();
        var v1 = Encoding.UTF8.GetBytes("# AI policy\n\nAll machine learning models must be approved by the AI governance board before deployment. The board reviews the AI policy every year and records its decisions.\n");
        var v2 = Encoding.UTF8.GetBytes("# AI policy\n\nAll AI systems and models must pass an impact assessment covering individuals, groups and society before deployment, and the assessment is documented and retained.\n");

        var first = await pipeline.IngestAsync("policy.md", v1, Ct);
        Assert.Equal(IngestStatus.Processed, first.Status);
        var again = await pipeline.IngestAsync("policy.md", v1, Ct);
        Assert.Equal(IngestStatus.Unchanged, again.Status);
        var copy = await pipeline.IngestAsync("copy-of-policy.md", v1, Ct);
        Assert.Equal(IngestStatus.Unchanged, copy.Status);
        Assert.Single(await aims.Store.ListDocumentsAsync(true, Ct));

        var second = await pipeline.IngestAsync("policy.md", v2, Ct);
        Assert.Equal(IngestStatus.Processed, second.Status);
        Assert.Equal(2, second.Document!.Version);
        var versions = await aims.Store.GetVersionsAsync("policy.md", Ct);
        Assert.Equal([2, 1], versions.Select(v => v.Version));
        Assert.Equal([true, false], versions.Select(v => v.IsCurrent));
        Assert.Single(await aims.Store.ListDocumentsAsync(false, Ct));
        var evidence = await aims.Store.GetEvidenceAsync(null, Ct);
        Assert.All(evidence, l => Assert.Equal(second.Document.Id, l.Document.Id));
    }

    [Theory]
    [InlineData("empty.md", new byte[0], DocumentStatus.Failed, "empty")]
    [InlineData("image.png", new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52 }, DocumentStatus.Skipped, "")]
    [InlineData("report.pdf", new byte[] { 0x25, 0x50, 0x44, 0x46, 0x2D, 0x31, 0x2E, 0x37, 0x0A, 0x31, 0x20, 0x30 }, DocumentStatus.Failed, "")]
    [InlineData("procedure.docx", new byte[] { 0x48, 0x65, 0x6C, 0x6C, 0x6F, 0x20, 0x77, 0x6F, 0x72, 0x6C, 0x64 }, DocumentStatus.Failed, "")]
    [InlineData("notes.txt", new byte[] { 0x41, 0x49, 0x20, 0xC3, 0x28, 0x81, 0x8D, 0x8F, 0x90, 0x9D, 0x41, 0xFF, 0xFE, 0xC0, 0x81, 0x9D }, DocumentStatus.Failed, "UTF-8")]
    public async Task Bad_input_is_recorded_with_a_reason_and_others_still_process(string name, byte[] content, DocumentStatus expected, string reasonPart)
    {
        using var tmp = new TempDir();
        using var aims = await LocalAims.OpenAsync(tmp.Db, cancellationToken: Ct);
        var pipeline = aims.CreatePipeline();
        var bad = await pipeline.IngestAsync(name, content, Ct);
        var good = await pipeline.IngestAsync("ok.md", Encoding.UTF8.GetBytes("# Model card\n\n## Intended use\n\nThe model is intended for pre-screening loan applications; it must not be used for final credit decisions.\n"), Ct);

        Assert.Equal(IngestStatus.Processed, good.Status);
        Assert.NotNull(bad.Document);
        Assert.Equal(expected, bad.Document!.Status);
        Assert.False(string.IsNullOrWhiteSpace(bad.Reason));
        Assert.Contains(reasonPart, bad.Reason!, StringComparison.OrdinalIgnoreCase);
        var stored = await aims.Store.GetCurrentByNameAsync(name, Ct);
        Assert.Equal(expected, stored!.Status);
        Assert.Equal(bad.Reason, stored.Reason);
    }
}
