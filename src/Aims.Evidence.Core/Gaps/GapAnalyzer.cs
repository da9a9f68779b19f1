using Aims.Evidence.Core.Catalog;
using Aims.Evidence.Core.Storage;

namespace Aims.Evidence.Core.Gaps;

/// <summary>
/// Gap statuses, defined once here and used by every host:
/// <list type="bullet">
/// <item><c>missing</c>: no (non-rejected) evidence link at all;</item>
/// <item><c>stale</c>: evidence exists but the newest is older than the review period (by effective date when set, else ingestion date);</item>
/// <item><c>covered</c>: a reviewer accepted a link, or a strong link (probability ≥ StrongScore, 0.80) comes from a document of an expected type and at least two passages support it;</item>
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
    /// <summary>
    /// Mapping scores are calibrated probabilities that the mapping is right; a machine-only "covered" needs evidence
    /// at least this likely (0.80).
    /// </summary>
    public double StrongScore { get; init; } = 0.80;

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

    /// <summary>Child id to container id, for the children of container entries (whose evidence counts for the container too).</summary>
    public static IReadOnlyDictionary<string, string> ContainerMap(IsoCatalog catalog)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        var containers = catalog.Entries.Where(e => e.Container).Select(e => e.Id).ToHashSet(StringComparer.Ordinal);
        return catalog.Entries.Where(e => e.Parent is { } p && containers.Contains(p))
            .ToDictionary(e => e.Id, e => e.Parent!, StringComparer.Ordinal);
    }

    /// <summary>The reference analysis: over every evidence link (what stores without aggregates provide).</summary>
    public GapReport Analyze(IReadOnlyList<EvidenceLink> links, IReadOnlyCollection<string> presentDocTypes)
    {
        ArgumentNullException.ThrowIfNull(links);
        ArgumentNullException.ThrowIfNull(presentDocTypes);
        var byControl = links.Where(l => l.Mapping.Review != ReviewState.Rejected)
            .ToLookup(l => l.Mapping.ControlId, StringComparer.Ordinal);

        return Build(presentDocTypes, entry =>
        {
            var own = entry.Container
                ? catalog.Entries.Where(c => c.Parent == entry.Id).SelectMany(c => byControl[c.Id]).Concat(byControl[entry.Id]).ToArray()
                : byControl[entry.Id].ToArray();
            if (own.Length == 0)
            {
                return null;
            }

            var expected = ExpectedDocuments.For(entry);
            var best = own.OrderByDescending(l => l.Mapping.Review == ReviewState.Accepted).ThenByDescending(l => l.Mapping.Score)
                .ThenBy(l => l.Mapping.Id, StringComparer.Ordinal).First();
            var strong = own.Where(l => l.Mapping.Score >= _options.StrongScore).ToArray();
            return new EntryEvidence(
                Passages: own.Select(l => l.Passage.Id).Distinct(StringComparer.Ordinal).Count(),
                Documents: own.Select(l => l.Document.Id).Distinct(StringComparer.Ordinal).Count(),
                BestScore: own.Max(l => l.Mapping.Score),
                AnyAccepted: own.Any(l => l.Mapping.Review == ReviewState.Accepted),
                AnyStrong: strong.Length > 0,
                AnyStrongFromExpected: strong.Any(l => expected.Count == 0 || (l.Document.DocType is { } t && expected.Contains(t))),
                Newest: own.Max(l => EvidenceDate(l.Document)),
                Best: best);
        });
    }

    /// <summary>
    /// The same analysis over a store's per entry and document aggregates (<see cref="IGapEvidenceSource"/>): reads
    /// a few rows per entry and document instead of every mapping, and gives exactly the report of the links overload.
    /// </summary>
    public GapReport Analyze(GapEvidence evidence)
    {
        ArgumentNullException.ThrowIfNull(evidence);
        var docs = evidence.CurrentDocuments.ToDictionary(d => d.Id, StringComparer.Ordinal);
        var present = evidence.CurrentDocuments.Where(d => d.Status == DocumentStatus.Processed && d.DocType is not null)
            .Select(d => d.DocType!).ToHashSet(StringComparer.Ordinal);
        var byEntry = evidence.Rows.Where(r => docs.TryGetValue(r.DocumentId, out var d) && d.Status == DocumentStatus.Processed)
            .ToLookup(r => r.EntryId, StringComparer.Ordinal);

        return Build(present, entry =>
        {
            var rows = byEntry[entry.Id].ToArray();
            if (rows.Length == 0 || !evidence.Best.TryGetValue(entry.Id, out var best))
            {
                return null;
            }

            var expected = ExpectedDocuments.For(entry);
            var strong = rows.Where(r => r.MaxScore >= _options.StrongScore).ToArray();
            return new EntryEvidence(
                Passages: rows.Sum(r => r.Passages),
                Documents: rows.Length,
                BestScore: rows.Max(r => r.MaxScore),
                AnyAccepted: rows.Any(r => r.AnyAccepted),
                AnyStrong: strong.Length > 0,
                AnyStrongFromExpected: strong.Any(r => expected.Count == 0 || (docs[r.DocumentId].DocType is { } t && expected.Contains(t))),
                Newest: rows.Max(r => EvidenceDate(docs[r.DocumentId])),
                Best: best);
        });
    }

    public static string StatusText(GapStatus status) => status.ToString().ToLowerInvariant();

    private GapReport Build(IReadOnlyCollection<string> presentDocTypes, Func<CatalogEntry, EntryEvidence?> evidenceOf)
    {
        var now = _options.Now ?? DateTimeOffset.UtcNow;
        var gaps = new List<ControlGap>(catalog.Entries.Count);
        foreach (var entry in catalog.Entries)
        {
            gaps.Add(Evaluate(entry, evidenceOf(entry), presentDocTypes, now));
        }

        var leaves = gaps.Where(g => !g.Entry.Container).ToArray();
        var clauses = leaves.Where(g => g.Entry.Kind == EntryKind.Clause).GroupBy(g => g.Entry.Group).Select(Summarize).ToArray();
        var objectives = leaves.Where(g => g.Entry.Kind == EntryKind.Control).GroupBy(g => g.Entry.Group).Select(Summarize).ToArray();
        var overall = Summarize(leaves.GroupBy(_ => "Overall").Single());
        return new GapReport(now, gaps, clauses, objectives, overall);
    }

    private ControlGap Evaluate(CatalogEntry entry, EntryEvidence? e, IReadOnlyCollection<string> presentDocTypes, DateTimeOffset now)
    {
        var expected = ExpectedDocuments.For(entry);
        var missingTypes = expected.Where(t => !presentDocTypes.Contains(t)).ToArray();
        if (e is null)
        {
            var why = missingTypes.Length > 0 ? $"no evidence; no {string.Join(" or ", missingTypes)} document was ingested" : "no evidence found in any current document";
            return new ControlGap(entry, GapStatus.Missing, why, 0, 0, 0, null, missingTypes, null);
        }

        var best = e.Best;
        var citation = new Citation(best.Document.Id, best.Document.Name, best.Document.DocType, best.Passage.Page, best.Passage.Headings, best.Passage.Id, best.Passage.Text, best.Mapping.Id, best.Mapping.Score, best.Mapping.Method, best.Mapping.Rationale, best.Mapping.Review);

        GapStatus status;
        string reason;
        if (now - e.Newest > _options.ReviewPeriod)
        {
            status = GapStatus.Stale;
            reason = $"newest evidence dates from {e.Newest:yyyy-MM-dd}, older than the review period";
        }
        else if (e.AnyAccepted)
        {
            status = GapStatus.Covered;
            reason = "evidence accepted by a reviewer";
        }
        else if (!e.AnyStrong)
        {
            status = GapStatus.Weak;
            reason = string.Create(System.Globalization.CultureInfo.InvariantCulture, $"best probability {Math.Floor(e.BestScore * 1000) / 1000:0.000} is below {_options.StrongScore:0.00}");
        }
        else if (e.Passages < 2)
        {
            status = GapStatus.Weak;
            reason = "a single passage is the only support";
        }
        else if (e.AnyStrongFromExpected)
        {
            status = GapStatus.Covered;
            reason = $"{e.Passages} passages in {e.Documents} document(s), best {e.BestScore:0.00}";
        }
        else
        {
            status = GapStatus.Suggested;
            reason = $"strong suggestions, but none from an expected {string.Join("/", expected)} document; needs review";
        }

        return new ControlGap(entry, status, reason, e.BestScore, e.Passages, e.Documents, citation, missingTypes, e.Newest);
    }

    /// <summary>What the status rules need about one entry's (non-rejected) evidence, however it was gathered.</summary>
    private sealed record EntryEvidence(int Passages, int Documents, double BestScore, bool AnyAccepted, bool AnyStrong, bool AnyStrongFromExpected, DateTimeOffset Newest, EvidenceLink Best);

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
