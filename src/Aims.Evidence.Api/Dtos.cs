using Aims.Evidence.Core.Catalog;
using Aims.Evidence.Core.Gaps;
using Aims.Evidence.Core.Storage;

namespace Aims.Evidence.Api;

public sealed record ControlSummary(string Id, string Kind, string Title, string Group, string? SubGroup, string? Parent, bool Container, string Status, string Reason, double BestScore, int PassageCount, int DocumentCount, IReadOnlyList<string> MissingDocTypes, DateTimeOffset? NewestEvidence)
{
    public static ControlSummary From(ControlGap g) => new(
        g.Entry.Id,
        g.Entry.Kind == EntryKind.Clause ? "clause" : "control",
        g.Entry.Title,
        g.Entry.Group,
        g.Entry.SubGroup,
        g.Entry.Parent,
        g.Entry.Container,
        GapAnalyzer.StatusText(g.Status),
        g.Reason,
        Math.Round(g.BestScore, 4),
        g.PassageCount,
        g.DocumentCount,
        g.MissingDocTypes,
        g.NewestEvidence)
    {
        Findings = g.Findings,
        Applicable = g.Applicability?.Applicable ?? true,
        ApplicabilityJustification = g.Applicability?.Justification,
        Owner = g.Owner?.Owner,
        OwnerDueDate = g.Owner?.DueDate,
    };

    /// <summary>Findings against the entry in current documents (an open one makes the status "nonconformity").</summary>
    public int Findings { get; init; }

    /// <summary>False when a reviewer excluded the entry (status "notApplicable"); true otherwise (by default or by decision).</summary>
    public bool Applicable { get; init; } = true;

    /// <summary>The reviewer's justification of the inclusion or exclusion, when one was recorded.</summary>
    public string? ApplicabilityJustification { get; init; }

    /// <summary>Who answers for the entry (PUT /controls/{id}/owner), when someone was assigned.</summary>
    public string? Owner { get; init; }

    /// <summary>The due date given with the owner, if any (a task without one is due the default period after the assignment).</summary>
    public DateOnly? OwnerDueDate { get; init; }

    /// <summary>
    /// The best evidence (a finding for a nonconformity) with its citation, in the whole gap report only
    /// (<see cref="GapReportView"/>); the list routes leave it out and <c>GET /controls/{id}</c> has every citation.
    /// </summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public EvidenceCitation? BestEvidence { get; init; }
}

/// <summary>The whole gap report: <c>aims gaps --json</c> and the evidence pack's gaps.json (coverage as <c>GET /coverage</c>, entries as <c>GET /gaps</c> with their best evidence).</summary>
public sealed record GapReportView(DateTimeOffset GeneratedAt, CoverageView Overall, IReadOnlyList<CoverageView> Clauses, IReadOnlyList<CoverageView> Objectives, IReadOnlyList<ControlSummary> Entries)
{
    public static GapReportView From(GapReport report, IEnumerable<ControlGap> entries)
    {
        ArgumentNullException.ThrowIfNull(report);
        ArgumentNullException.ThrowIfNull(entries);
        return new(
            report.GeneratedAt,
            CoverageView.From(report.Overall),
            report.Clauses.Select(CoverageView.From).ToArray(),
            report.Objectives.Select(CoverageView.From).ToArray(),
            entries.Select(g => ControlSummary.From(g) with { BestEvidence = g.BestEvidence is { } c ? EvidenceCitation.From(c, g.Entry.Id) : null }).ToArray());
    }
}

public sealed record EvidenceCitation(string MappingId, string ControlId, string DocumentId, string DocumentName, string? DocType, int Page, IReadOnlyList<string> Headings, string PassageId, string Text, double Score, string Method, string Rationale, string Review, string Display)
{
    public static EvidenceCitation From(EvidenceLink l) => new(
        l.Mapping.Id,
        l.Mapping.ControlId,
        l.Document.Id,
        l.Document.Name,
        l.Document.DocType,
        l.Passage.Page,
        l.Passage.Headings,
        l.Passage.Id,
        l.Passage.Text,
        Math.Round(l.Mapping.Score, 4),
        l.Mapping.Method,
        l.Mapping.Rationale,
        ReviewText(l.Mapping.Review),
        CitationText.Of(l.Document, l.Passage))
    {
        Polarity = PolarityText(l.Mapping.Polarity),
        RowStart = l.Passage.RowStart,
        RowEnd = l.Passage.RowEnd,
    };

    /// <summary>The gap report's citation of an entry's best evidence.</summary>
    public static EvidenceCitation From(Citation c, string controlId)
    {
        ArgumentNullException.ThrowIfNull(c);
        return new(c.MappingId, controlId, c.DocumentId, c.DocumentName, c.DocType, c.Page, c.Headings, c.PassageId, c.Text, Math.Round(c.Score, 4), c.Method, c.Rationale, ReviewText(c.Review), c.Display)
        {
            Polarity = PolarityText(c.Polarity),
            RowStart = c.RowStart,
            RowEnd = c.RowEnd,
        };
    }

    /// <summary>For table rows (CSV, XLSX): the first and last spreadsheet row; the page is the sheet number.</summary>
    public int? RowStart { get; init; }

    public int? RowEnd { get; init; }

    /// <summary>"supports", or "finding" when the passage states the control is absent, failed or nonconforming.</summary>
    public string Polarity { get; init; } = "supports";

    public static string ReviewText(ReviewState r) => r.ToString().ToLowerInvariant();

    public static string PolarityText(Core.Mapping.MappingPolarity p) => p.ToString().ToLowerInvariant();
}

public sealed record ControlDetail(ControlSummary Control, string Summary, IReadOnlyList<string> ExpectedEvidence, IReadOnlyList<string> ExpectedDocTypes, IReadOnlyList<EvidenceCitation> Evidence);

public sealed record DocumentSummary(string Id, string Name, string Status, string? Reason, string? DocType, double DocTypeConfidence, int Version, bool Current, string Sha256, long Size, string? MediaType, int Pages, int Passages, DateTimeOffset IngestedAt, DateOnly? EffectiveDate)
{
    public static DocumentSummary From(DocumentRecord d) => new(
        d.Id, d.Name, d.Status.ToString().ToLowerInvariant(), d.Reason, d.DocType, Math.Round(d.DocTypeConfidence, 4), d.Version, d.IsCurrent, d.Sha256, d.Size, d.MediaType, d.PageCount, d.PassageCount, d.IngestedAt, d.EffectiveDate)
    {
        StatedDate = d.StatedDate,
        StatedDateSource = d.StatedDateSource,
        EvidenceDate = DateOnly.FromDateTime(d.EvidenceDate.UtcDateTime),
    };

    /// <summary>The date the document states about itself, and where it was found.</summary>
    public DateOnly? StatedDate { get; init; }

    public string? StatedDateSource { get; init; }

    /// <summary>The day its evidence counts from for staleness: effective date, else stated date, else ingestion day.</summary>
    public DateOnly EvidenceDate { get; init; }
}

public sealed record MappingView(string Id, string ControlId, double Score, string Method, string Rationale, string Review)
{
    public static MappingView From(MappingRecord m) => new(m.Id, m.ControlId, Math.Round(m.Score, 4), m.Method, m.Rationale, EvidenceCitation.ReviewText(m.Review))
    {
        Polarity = EvidenceCitation.PolarityText(m.Polarity),
    };

    /// <summary>"supports" or "finding".</summary>
    public string Polarity { get; init; } = "supports";
}

public sealed record PassageView(string Id, int Ordinal, int Page, IReadOnlyList<string> Headings, string Kind, string Text, IReadOnlyList<MappingView> Mappings)
{
    /// <summary>For table rows: the first and last spreadsheet row (the page is the sheet number).</summary>
    public int? RowStart { get; init; }

    public int? RowEnd { get; init; }

    public static PassageView From(PassageWithMappings p) =>
        new(p.Passage.Id, p.Passage.Ordinal, p.Passage.Page, p.Passage.Headings, p.Passage.Kind, p.Passage.Text, p.Mappings.Select(MappingView.From).ToArray())
        {
            RowStart = p.Passage.RowStart,
            RowEnd = p.Passage.RowEnd,
        };
}

public sealed record DocumentDetail(DocumentSummary Document, IReadOnlyList<DocumentSummary> Versions, IReadOnlyList<PassageView> Passages);

public sealed record SearchResult(double Score, string DocumentId, string DocumentName, string? DocType, int Page, IReadOnlyList<string> Headings, string PassageId, string Text, IReadOnlyList<MappingView> Mappings)
{
    /// <summary>For table rows: the first and last spreadsheet row (the page is the sheet number).</summary>
    public int? RowStart { get; init; }

    public int? RowEnd { get; init; }

    /// <summary>The citation as a person reads it (see <see cref="CitationText"/>).</summary>
    public string Display { get; init; } = string.Empty;

    public static SearchResult From(SearchHit h) =>
        new(h.Score, h.Document.Id, h.Document.Name, h.Document.DocType, h.Passage.Page, h.Passage.Headings, h.Passage.Id, h.Passage.Text, h.Mappings.Select(MappingView.From).ToArray())
        {
            RowStart = h.Passage.RowStart,
            RowEnd = h.Passage.RowEnd,
            Display = CitationText.Of(h.Document, h.Passage),
        };
}

public sealed record CoverageView(string Group, int Total, int Covered, int Suggested, int Weak, int Stale, int Missing, double CoveredPercent, double EvidencedPercent)
{
    public static CoverageView From(CoverageGroup g) => new(g.Group, g.Total, g.Covered, g.Suggested, g.Weak, g.Stale, g.Missing, g.CoveredPercent, g.EvidencedPercent)
    {
        Nonconformity = g.Nonconformity,
    };

    /// <summary>Entries whose newest evidence is an open finding.</summary>
    public int Nonconformity { get; init; }
}

public sealed record CoverageReport(CoverageView Overall, IReadOnlyList<CoverageView> Clauses, IReadOnlyList<CoverageView> Objectives);

/// <param name="Decision">"accept" or "reject".</param>
/// <param name="Comment">Optional, at most 2000 characters.</param>
/// <param name="Polarity">With "accept" only: "supports" or "finding", the reviewer's reading of the passage (a finding the model missed, or a passage it wrongly read as one); omitted: the polarity stays.</param>
public sealed record ReviewRequest(string? Decision, string? Comment, string? Polarity = null);

/// <param name="Polarity">"supports" (default) or "finding": the passage states the control is absent or failed.</param>
public sealed record ManualMappingRequest(string? ControlId, string? Rationale, string? Polarity = null);

public sealed record EffectiveDateRequest(string? EffectiveDate);

/// <param name="Applicable">Whether the entry applies to the organisation (required).</param>
/// <param name="Justification">Why it is included or excluded (required for an exclusion; at most 2000 characters).</param>
public sealed record ApplicabilityRequest(bool? Applicable, string? Justification);

public sealed record ApplicabilityView(string ControlId, bool Applicable, string Justification, string Actor, DateTimeOffset At)
{
    public static ApplicabilityView From(ApplicabilityDecision d) => new(d.ControlId, d.Applicable, d.Justification, d.Actor, d.At);
}

public sealed record CreateKeyRequest(string? Role);

public sealed record CreatedKey(string Id, string Role, string Key);

/// <summary>
/// An accepted upload: every file of the form in <paramref name="Files"/> (in form order); <paramref name="FileName"/>,
/// <paramref name="Size"/> and <paramref name="Sha256"/> repeat the first one's.
/// </summary>
public sealed record UploadResult(string FileName, long Size, string Sha256, string Status, IReadOnlyList<UploadedFile> Files);

/// <summary>One uploaded file: the name it is stored (and versioned) under, its size and SHA-256.</summary>
public sealed record UploadedFile(string FileName, long Size, string Sha256);

/// <summary>A file of an upload form, checked, with the safe name it is stored under.</summary>
public sealed record UploadPart(string FileName, Microsoft.AspNetCore.Http.IFormFile File);

public sealed record AuditView(long Id, DateTimeOffset At, string Actor, string Action, string Target, string? Before, string? After);

public sealed record Health(string Status, string Version);

/// <summary>A framework with a crosswalk to ISO/IEC 42001 (GET /api/v1/frameworks).</summary>
public sealed record FrameworkSummary(string Id, string Title, string Version, string Source, int Requirements, string Basis)
{
    public static FrameworkSummary From(Core.Crosswalks.Crosswalk f) => new(f.Id, f.Title, f.Version, f.Source, f.Requirements.Count, f.Basis);
}

/// <summary>How many of the framework's requirements have each status.</summary>
public sealed record FrameworkCounts(int Covered, int Partial, int Missing, int Nonconformity, int NotApplicable, int OutOfScope);

/// <summary>Where the evidence of a related entry is: the gap report's best evidence (a finding for a nonconformity).</summary>
public sealed record FrameworkEvidence(string DocumentId, string DocumentName, string? DocType, int Page, IReadOnlyList<string> Headings, string PassageId, double Score, string Polarity, string Display);

public sealed record RelatedEntryView(string Id, string Title, string Status, string Reason, FrameworkEvidence? Evidence);

public sealed record RequirementCoverageView(string Id, string Title, string Group, string Relation, string Source, string? Note, string Status, string Reason, IReadOnlyList<RelatedEntryView> Related);

/// <summary>GET /api/v1/frameworks/{id}/coverage and <c>aims gaps --framework ID --json</c>.</summary>
public sealed record FrameworkCoverageView(FrameworkSummary Framework, FrameworkCounts Counts, IReadOnlyList<RequirementCoverageView> Requirements)
{
    public static FrameworkCoverageView From(Core.Crosswalks.FrameworkCoverageReport r)
    {
        ArgumentNullException.ThrowIfNull(r);
        var counts = new FrameworkCounts(
            r.Count(Core.Crosswalks.RequirementStatus.Covered),
            r.Count(Core.Crosswalks.RequirementStatus.Partial),
            r.Count(Core.Crosswalks.RequirementStatus.Missing),
            r.Count(Core.Crosswalks.RequirementStatus.Nonconformity),
            r.Count(Core.Crosswalks.RequirementStatus.NotApplicable),
            r.Count(Core.Crosswalks.RequirementStatus.OutOfScope));
        return new FrameworkCoverageView(FrameworkSummary.From(r.Framework), counts, r.Requirements.Select(q => new RequirementCoverageView(
            q.Requirement.Id,
            q.Requirement.Title,
            q.Requirement.Group,
            System.Text.Json.JsonNamingPolicy.CamelCase.ConvertName(q.Requirement.Relation.ToString()),
            q.Requirement.Source,
            q.Requirement.Note,
            Core.Crosswalks.FrameworkCoverage.StatusText(q.Status),
            q.Reason,
            q.Related.Select(e => new RelatedEntryView(e.Id, e.Title, GapAnalyzer.StatusText(e.Status), e.Reason, e.Evidence is { } c
                ? new FrameworkEvidence(c.DocumentId, c.DocumentName, c.DocType, c.Page, c.Headings, c.PassageId, Math.Round(c.Score, 4), EvidenceCitation.PolarityText(c.Polarity), c.Display)
                : null)).ToArray())).ToArray());
    }
}
