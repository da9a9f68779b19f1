using Aims.Evidence.Core.Catalog;
using Aims.Evidence.Core.Classification;
using Aims.Evidence.Core.Gaps;
using Aims.Evidence.Core.Mapping;
using Aims.Evidence.Core.Mapping.Feedback;
using Aims.Evidence.Core.Storage;

namespace Aims.Evidence.Tests.Gaps;

/// <summary>
/// A passage that states a control is absent or failed (a finding) is evidence of a gap: it never counts as coverage,
/// and the entry is a nonconformity until supporting evidence or corrective action (10.2) from a later day closes it.
/// </summary>
public sealed class FindingGapTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 28, 12, 0, 0, TimeSpan.Zero);
    private static readonly GapAnalyzer Analyzer = new(IsoCatalog.Default, new GapOptions { Now = Now });
    private static readonly string[] Present = [DocumentTypes.AuditReport, DocumentTypes.Policy, DocumentTypes.Procedure];

    [Fact]
    public void A_finding_alone_is_a_nonconformity_and_never_coverage_even_accepted_and_certain()
    {
        var report = Analyzer.Analyze([Link("audit", DocumentTypes.AuditReport, -10, "p1", "9.3.3", 0.99, MappingPolarity.Finding, ReviewState.Accepted)], Present);
        var gap = Entry(report, "9.3.3");
        Assert.Equal(GapStatus.Nonconformity, gap.Status);
        Assert.Equal(0, gap.PassageCount);
        Assert.Equal(1, gap.Findings);
        Assert.Equal(MappingPolarity.Finding, gap.BestEvidence!.Polarity);
        Assert.StartsWith("open finding in audit.pdf, p. 1 (2026-11-18, mapping probability 0.990; accepted as a finding by a reviewer)", gap.Reason, StringComparison.Ordinal);

        // Its container (9.3) carries the child's finding; the coverage groups count it.
        Assert.Equal(GapStatus.Nonconformity, Entry(report, "9.3").Status);
        Assert.Equal(1, report.Overall.Nonconformity);
        Assert.Equal(0, report.Overall.Covered);
    }

    [Fact]
    public void A_nonconformity_says_what_made_its_passage_a_finding()
    {
        // The polarity model's probability, kept with the passage's candidates, against its threshold: truncated, so
        // a finding barely over the threshold never reads as under it.
        var model = Link("audit", DocumentTypes.AuditReport, -10, "p1", "9.2.1", 0.41, MappingPolarity.Finding);
        model = model with { Passage = model.Passage with { Candidates = new PassageCandidates { Threshold = 0.4, MaxSuggestions = 3, Method = MappingMethods.Trained, Finding = 0.25379, FindingThreshold = 0.18 } } };
        Assert.Equal(
            "open finding in audit.pdf, p. 1 (2026-11-18, mapping probability 0.410; it states a finding with probability 0.253, threshold 0.18): no supporting evidence of the entry is dated after it",
            Entry(Analyzer.Analyze([model], Present), "9.2.1").Reason);

        var manual = Link("audit", DocumentTypes.AuditReport, -10, "p1", "9.2.1", 1, MappingPolarity.Finding, ReviewState.Accepted);
        manual = manual with { Mapping = manual.Mapping with { Method = MappingMethods.Manual } };
        Assert.Contains("mapping probability 1.000; recorded as a finding by a reviewer)", Entry(Analyzer.Analyze([manual], Present), "9.2.1").Reason, StringComparison.Ordinal);

        var accepted = model with { Mapping = model.Mapping with { Review = ReviewState.Accepted } };
        Assert.Contains("mapping probability 0.410; accepted as a finding by a reviewer)", Entry(Analyzer.Analyze([accepted], Present), "9.2.1").Reason, StringComparison.Ordinal);

        var judged = Link("audit", DocumentTypes.AuditReport, -10, "p1", "9.2.1", 0.7, MappingPolarity.Finding);
        judged = judged with { Mapping = judged.Mapping with { Method = MappingMethods.Llm } };
        Assert.Contains("mapping probability 0.700; the LLM judge read it as a finding)", Entry(Analyzer.Analyze([judged], Present), "9.2.1").Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Supporting_evidence_of_the_same_day_does_not_close_a_finding_but_a_later_day_does()
    {
        var finding = Link("audit", DocumentTypes.AuditReport, -10, "f1", "7.2", 0.9, MappingPolarity.Finding);
        EvidenceLink[] sameDay = [Link("training", DocumentTypes.Procedure, -10, "s1", "7.2", 0.95), Link("training", DocumentTypes.Procedure, -10, "s2", "7.2", 0.95)];
        Assert.Equal(GapStatus.Nonconformity, Entry(Analyzer.Analyze([finding, .. sameDay], Present), "7.2").Status);

        EvidenceLink[] later = [Link("training", DocumentTypes.Procedure, -3, "s1", "7.2", 0.95), Link("training", DocumentTypes.Procedure, -3, "s2", "7.2", 0.95)];
        var closed = Entry(Analyzer.Analyze([finding, .. later], Present), "7.2");
        Assert.Equal(GapStatus.Covered, closed.Status);
        Assert.Equal(2, closed.PassageCount); // the finding's passage is not support
        Assert.Equal(1, closed.Findings);
    }

    [Fact]
    public void A_correction_record_closes_a_finding_when_it_is_mapped_to_the_entry_and_a_rejected_finding_never_counts()
    {
        var finding = Link("audit", DocumentTypes.AuditReport, -30, "f1", "A.6.2.6", 0.8, MappingPolarity.Finding);

        // A later corrective-action record that evidences the entry (mapped to 10.2 and to A.6.2.6) closes it.
        EvidenceLink[] closedAction = [Link("capa", DocumentTypes.AuditReport, -2, "c1", "10.2", 0.9), Link("capa", DocumentTypes.AuditReport, -2, "c1", "A.6.2.6", 0.7)];
        var gap = Entry(Analyzer.Analyze([finding, .. closedAction], Present), "A.6.2.6");
        Assert.Equal(GapStatus.Weak, gap.Status);
        Assert.Equal(1, gap.Findings);

        // Corrective action about something else does not close it.
        var unrelated = Link("capa", DocumentTypes.AuditReport, -2, "c1", "10.2", 0.9);
        Assert.Equal(GapStatus.Nonconformity, Entry(Analyzer.Analyze([finding, unrelated], Present), "A.6.2.6").Status);

        var rejected = Link("audit", DocumentTypes.AuditReport, -30, "f1", "A.6.2.6", 0.8, MappingPolarity.Finding, ReviewState.Rejected);
        Assert.Equal(GapStatus.Missing, Entry(Analyzer.Analyze([rejected], Present), "A.6.2.6").Status);
    }

    [Fact]
    public void An_undated_document_never_closes_a_dated_finding_but_a_later_dated_one_does()
    {
        var finding = Link("audit", DocumentTypes.AuditReport, -30, "f1", "7.2", 0.9, MappingPolarity.Finding, stated: -200);
        EvidenceLink[] undated = [Link("training", DocumentTypes.Procedure, 0, "s1", "7.2", 0.95), Link("training", DocumentTypes.Procedure, 0, "s2", "7.2", 0.95)];
        Assert.Equal(GapStatus.Nonconformity, Entry(Analyzer.Analyze([finding, .. undated], Present), "7.2").Status);

        EvidenceLink[] olderDated = [Link("training", DocumentTypes.Procedure, 0, "s1", "7.2", 0.95, stated: -300), Link("training", DocumentTypes.Procedure, 0, "s2", "7.2", 0.95, stated: -300)];
        Assert.Equal(GapStatus.Nonconformity, Entry(Analyzer.Analyze([finding, .. olderDated], Present), "7.2").Status);

        EvidenceLink[] laterDated = [Link("training", DocumentTypes.Procedure, 0, "s1", "7.2", 0.95, stated: -100), Link("training", DocumentTypes.Procedure, 0, "s2", "7.2", 0.95, stated: -100)];
        Assert.Equal(GapStatus.Covered, Entry(Analyzer.Analyze([finding, .. laterDated], Present), "7.2").Status);
    }

    [Fact]
    public void Nonconformities_come_first_in_the_status_order_every_host_sorts_by()
    {
        Assert.Equal(GapStatus.Nonconformity, Enum.GetValues<GapStatus>().Min());
        Assert.Equal("nonconformity", GapAnalyzer.StatusText(GapStatus.Nonconformity));
    }

    private static ControlGap Entry(GapReport report, string id) => report.Entries.Single(e => e.Entry.Id == id);

    private static EvidenceLink Link(string doc, string docType, int days, string passage, string control, double score, MappingPolarity polarity = MappingPolarity.Supports, ReviewState review = ReviewState.Unreviewed, int? stated = null) => new(
        new DocumentRecord
        {
            Id = doc,
            Name = doc + ".pdf",
            Sha256 = doc,
            DocType = docType,
            Status = DocumentStatus.Processed,
            IngestedAt = Now.AddDays(days),
            StatedDate = stated is { } d ? DateOnly.FromDateTime(Now.UtcDateTime).AddDays(d) : null,
            StatedDateSource = stated is null ? null : "\"Last updated\" in the text",
        },
        new PassageRecord { Id = doc + "-" + passage, DocumentId = doc, Page = 1, Text = "passage " + passage },
        new MappingRecord { Id = doc + "-" + passage + "-" + control, PassageId = doc + "-" + passage, ControlId = control, Score = score, Method = "test", Polarity = polarity, Review = review });
}
