using Aims.Evidence.Core.Catalog;
using Aims.Evidence.Core.Storage;

namespace Aims.Evidence.Core.Gaps;

/// <summary>
/// Gap statuses, defined once here and used by every host:
/// <list type="bullet">
/// <item><c>missing</c>: no (non-rejected) evidence link at all;</item>
/// <item><c>stale</c>: evidence exists but the newest is older than the review period (by effective date when set, else ingestion date);</item>
/// <item><c>covered</c>: a reviewer accepted a link, or a strong link (score ≥ StrongScore) comes from a document of an expected type and at least two passages support it;</item>
/// <item><c>weak</c>: the best score is below StrongScore, or a single passage is the only support;</item>
/// <item><c>suggested</c>: otherwise: only unreviewed machine suggestions, strong but not yet from an expected document type.</item>
/// </list>
/// Rejected suggestions never count.
/// </summary>
public enum GapStatus
{
    Missing,
    Stale,
    Weak,
    Suggested,
    Covered,
}

public sealed record GapOptions
{
    public double StrongScore { get; init; } = 0.75;

    public TimeSpan ReviewPeriod { get; init; } = TimeSpan.FromDays(365);

    public DateTimeOffset? Now { get; init; }
}

/// <summary>Where a piece of evidence is: document, page, heading path and the passage itself.</summary>
public sealed record Citation(string DocumentId, string DocumentName, string? DocType, int Page, IReadOnlyList<string> Headings, string PassageId, string Text, string MappingId, double Score, string Method, string Rationale, ReviewState Review)
{
    public string Display => $"{DocumentName}, p. {Page}{(Headings.Count > 0 ? ", \u00a7 " + Headings[^1] : string.Empty)}";
}

public sealed record ControlGap(
    CatalogEntry Entry,
    GapStatus Status,
    string Reason,
    double BestScore,
    int PassageCount,
    int DocumentCount,
    Citation? BestEvidence,
    IReadOnlyList<string> MissingDocTypes,
    DateTimeOffset? NewestEvidence);

public sealed record CoverageGroup(string Group, int Total, int Covered, int Suggested, int Weak, int Stale, int Missing)
{
    /// <summary>Share of entries that are covered, in percent.</summary>
    public double CoveredPercent => Total == 0 ? 0 : Math.Round(100.0 * Covered / Total, 1);

    /// <summary>Share of entries with any current evidence (not missing), in percent.</summary>
    public double EvidencedPercent => Total == 0 ? 0 : Math.Round(100.0 * (Total - Missing) / Total, 1);
}

public sealed record GapReport(DateTimeOffset GeneratedAt, IReadOnlyList<ControlGap> Entries, IReadOnlyList<CoverageGroup> Clauses, IReadOnlyList<CoverageGroup> Objectives, CoverageGroup Overall);

public sealed class GapAnalyzer(IsoCatalog catalog, GapOptions? options = null)
{
    private readonly GapOptions _options = options ?? new GapOptions();

    public GapReport Analyze(IReadOnlyList<EvidenceLink> links, IReadOnlyCollection<string> presentDocTypes)
    {
        ArgumentNullException.ThrowIfNull(links);
        ArgumentNullException.ThrowIfNull(presentDocTypes);
        var now = _options.Now ?? DateTimeOffset.UtcNow;
        var byControl = links.Where(l => l.Mapping.Review != ReviewState.Rejected)
            .ToLookup(l => l.Mapping.ControlId, StringComparer.Ordinal);

        var gaps = new List<ControlGap>(catalog.Entries.Count);
        foreach (var entry in catalog.Entries)
        {
            var own = entry.Container
                ? catalog.Entries.Where(c => c.Parent == entry.Id).SelectMany(c => byControl[c.Id]).Concat(byControl[entry.Id]).ToArray()
                : byControl[entry.Id].ToArray();
            gaps.Add(Evaluate(entry, own, presentDocTypes, now));
        }

        var leaves = gaps.Where(g => !g.Entry.Container).ToArray();
        var clauses = leaves.Where(g => g.Entry.Kind == EntryKind.Clause).GroupBy(g => g.Entry.Group).Select(Summarize).ToArray();
        var objectives = leaves.Where(g => g.Entry.Kind == EntryKind.Control).GroupBy(g => g.Entry.Group).Select(Summarize).ToArray();
        var overall = Summarize(leaves.GroupBy(_ => "Overall").Single());
        return new GapReport(now, gaps, clauses, objectives, overall);
    }

    public static string StatusText(GapStatus status) => status.ToString().ToLowerInvariant();

    private ControlGap Evaluate(CatalogEntry entry, EvidenceLink[] links, IReadOnlyCollection<string> presentDocTypes, DateTimeOffset now)
    {
        var expected = ExpectedDocuments.For(entry);
        var missingTypes = expected.Where(t => !presentDocTypes.Contains(t)).ToArray();
        if (links.Length == 0)
        {
            var why = missingTypes.Length > 0 ? $"no evidence; no {string.Join(" or ", missingTypes)} document was ingested" : "no evidence found in any current document";
            return new ControlGap(entry, GapStatus.Missing, why, 0, 0, 0, null, missingTypes, null);
        }

        var best = links.OrderByDescending(l => l.Mapping.Review == ReviewState.Accepted).ThenByDescending(l => l.Mapping.Score).First();
        var bestScore = links.Max(l => l.Mapping.Score);
        var passages = links.Select(l => l.Passage.Id).Distinct(StringComparer.Ordinal).Count();
        var documents = links.Select(l => l.Document.Id).Distinct(StringComparer.Ordinal).Count();
        var newest = links.Max(l => EvidenceDate(l.Document));
        var citation = new Citation(best.Document.Id, best.Document.Name, best.Document.DocType, best.Passage.Page, best.Passage.Headings, best.Passage.Id, best.Passage.Text, best.Mapping.Id, best.Mapping.Score, best.Mapping.Method, best.Mapping.Rationale, best.Mapping.Review);

        GapStatus status;
        string reason;
        if (now - newest > _options.ReviewPeriod)
        {
            status = GapStatus.Stale;
            reason = $"newest evidence dates from {newest:yyyy-MM-dd}, older than the review period";
        }
        else if (links.Any(l => l.Mapping.Review == ReviewState.Accepted))
        {
            status = GapStatus.Covered;
            reason = "evidence accepted by a reviewer";
        }
        else
        {
            var strong = links.Where(l => l.Mapping.Score >= _options.StrongScore).ToArray();
            var strongFromExpected = strong.Any(l => expected.Count == 0 || (l.Document.DocType is { } t && expected.Contains(t)));
            if (strong.Length == 0)
            {
                status = GapStatus.Weak;
                reason = $"best score {bestScore:0.00} is below {_options.StrongScore:0.00}";
            }
            else if (passages < 2)
            {
                status = GapStatus.Weak;
                reason = "a single passage is the only support";
            }
            else if (strongFromExpected)
            {
                status = GapStatus.Covered;
                reason = $"{passages} passages in {documents} document(s), best {bestScore:0.00}";
            }
            else
            {
                status = GapStatus.Suggested;
                reason = $"strong suggestions, but none from an expected {string.Join("/", expected)} document; needs review";
            }
        }

        return new ControlGap(entry, status, reason, bestScore, passages, documents, citation, missingTypes, newest);
    }

    private static DateTimeOffset EvidenceDate(DocumentRecord doc) =>
        doc.EffectiveDate is { } d ? new DateTimeOffset(d.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero) : doc.IngestedAt;

    private static CoverageGroup Summarize(IGrouping<string, ControlGap> group) => new(
        group.Key,
        group.Count(),
        group.Count(g => g.Status == GapStatus.Covered),
        group.Count(g => g.Status == GapStatus.Suggested),
        group.Count(g => g.Status == GapStatus.Weak),
        group.Count(g => g.Status == GapStatus.Stale),
        group.Count(g => g.Status == GapStatus.Missing));
}
