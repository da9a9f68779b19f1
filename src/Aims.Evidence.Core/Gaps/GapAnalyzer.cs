using Aims.Evidence.Core.Catalog;
using Aims.Evidence.Core.Mapping;
using Aims.Evidence.Core.Storage;

namespace Aims.Evidence.Core.Gaps;

/// <summary>
/// Gap statuses, defined once here and used by every host:
/// <list type="bullet">
/// <item><c>nonconformity</c>: the newest evidence is an open finding (a passage stating the control is absent, failed or
/// nonconforming): no supporting evidence of the entry is dated later. A record of the correction (a closed corrective
/// action, 10.2) closes it when it is mapped to the entry too. Dates are the documents' own (reviewer's effective date,
/// else stated date); an undated document is later only than undated ones ingested on an earlier day, so a file without
/// a date never closes a dated finding. A newer version of the document replaces its findings;</item>
/// <item><c>missing</c>: no (non-rejected) evidence link at all;</item>
/// <item><c>stale</c>: evidence exists but the newest is older than the review period (by <see cref="DocumentRecord.EvidenceDate"/>: the reviewer's effective date, else the document's own stated date, else the ingestion date);</item>
/// <item><c>covered</c>: a reviewer accepted a link, or a strong link (probability ≥ StrongScore, 0.80) comes from a document of an expected type and at least two passages support it;</item>
/// <item><c>weak</c>: the best score is below StrongScore, or a single passage is the only support;</item>
/// <item><c>suggested</c>: otherwise: only unreviewed machine suggestions, strong but not yet from an expected document type.</item>
/// </list>
/// An entry a reviewer excluded (<see cref="GapOptions.Applicability"/>) is <c>notApplicable</c>, with the justification, and
/// leaves every count. Rejected suggestions never count; findings never count as coverage.
/// </summary>
public enum GapStatus
{
    Nonconformity,
    Missing,
    Stale,
    Weak,
    Suggested,
    Covered,
    NotApplicable,
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

    /// <summary>Reviewers' applicability decisions by entry id; an entry decided not applicable is <c>notApplicable</c>.</summary>
    public IReadOnlyDictionary<string, ApplicabilityDecision> Applicability { get; init; } = new Dictionary<string, ApplicabilityDecision>(StringComparer.Ordinal);

    /// <summary>The entries' owners by entry id (carried on each entry; they do not change its status).</summary>
    public IReadOnlyDictionary<string, EntryOwner> Owners { get; init; } = new Dictionary<string, EntryOwner>(StringComparer.Ordinal);
}

/// <summary>Where a piece of evidence is: document, page, heading path and the passage itself.</summary>
public sealed record Citation(string DocumentId, string DocumentName, string? DocType, int Page, IReadOnlyList<string> Headings, string PassageId, string Text, string MappingId, double Score, string Method, string Rationale, ReviewState Review)
{
    /// <summary>Whether the cited passage supports the entry or is a finding against it.</summary>
    public Mapping.MappingPolarity Polarity { get; init; }

    /// <summary>For table rows: the first and last spreadsheet row.</summary>
    public int? RowStart { get; init; }

    public int? RowEnd { get; init; }

    public string Display => CitationText.Of(DocumentName, Page, Headings, RowStart, RowEnd);
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
    DateTimeOffset? NewestEvidence)
{
    /// <summary>Findings against the entry in current documents (open or closed).</summary>
    public int Findings { get; init; }

    /// <summary>The reviewer's applicability decision, when one was made (else applicable by default).</summary>
    public ApplicabilityDecision? Applicability { get; init; }

    /// <summary>Who answers for the entry, when someone was assigned.</summary>
    public EntryOwner? Owner { get; init; }
}

public sealed record CoverageGroup(string Group, int Total, int Covered, int Suggested, int Weak, int Stale, int Missing, int Nonconformity = 0)
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
        var counted = links.Where(l => l.Mapping.Review != ReviewState.Rejected).ToArray();
        var byControl = counted.Where(l => l.Mapping.Polarity == Mapping.MappingPolarity.Supports)
            .ToLookup(l => l.Mapping.ControlId, StringComparer.Ordinal);
        var findings = counted.Where(l => l.Mapping.Polarity == Mapping.MappingPolarity.Finding).ToArray();

        return Build(presentDocTypes, findings, entry =>
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
                Newest: own.Max(l => l.Document.EvidenceDate),
                Best: best)
            {
                NewestDated = own.Max(l => l.Document.KnownDate),
                NewestUndatedIngest = own.Where(l => l.Document.KnownDate is null).Select(l => (DateOnly?)Day(l.Document.IngestedAt)).Max(),
            };
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

        var findings = evidence.Findings.Where(f => f.Document.Status == DocumentStatus.Processed).ToArray();
        return Build(present, findings, entry =>
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
                Newest: rows.Max(r => docs[r.DocumentId].EvidenceDate),
                Best: best)
            {
                NewestDated = rows.Max(r => docs[r.DocumentId].KnownDate),
                NewestUndatedIngest = rows.Where(r => docs[r.DocumentId].KnownDate is null).Select(r => (DateOnly?)Day(docs[r.DocumentId].IngestedAt)).Max(),
            };
        });
    }

    /// <summary>The status as every output writes it (camelCase, as the API's enums): "missing", "notApplicable".</summary>
    public static string StatusText(GapStatus status) => System.Text.Json.JsonNamingPolicy.CamelCase.ConvertName(status.ToString());

    private GapReport Build(IReadOnlyCollection<string> presentDocTypes, IReadOnlyList<EvidenceLink> findings, Func<CatalogEntry, EntryEvidence?> evidenceOf)
    {
        var now = _options.Now ?? DateTimeOffset.UtcNow;
        var evidence = catalog.Entries.ToDictionary(e => e.Id, evidenceOf, StringComparer.Ordinal);
        var findingsOf = FindingsByEntry(findings);
        var gaps = new List<ControlGap>(catalog.Entries.Count);
        foreach (var entry in catalog.Entries)
        {
            var open = OpenFinding(findingsOf[entry.Id], evidence[entry.Id]);
            var count = findingsOf[entry.Id].Count();
            var decision = _options.Applicability.GetValueOrDefault(entry.Id);
            if (decision is { Applicable: false })
            {
                var e = evidence[entry.Id];
                gaps.Add(new ControlGap(entry, GapStatus.NotApplicable, $"excluded by a reviewer: {decision.Justification}", e?.BestScore ?? 0, e?.Passages ?? 0, e?.Documents ?? 0, e is null ? null : CitationOf(e.Best), [], e?.Newest)
                {
                    Findings = count,
                    Applicability = decision,
                });
                continue;
            }

            gaps.Add((open is not null
                ? Nonconformity(entry, open, evidence[entry.Id], count)
                : Evaluate(entry, evidence[entry.Id], presentDocTypes, now) with { Findings = count }) with { Applicability = decision });
        }

        var leaves = gaps.Where(g => !g.Entry.Container && g.Status != GapStatus.NotApplicable).ToArray();
        var clauses = leaves.Where(g => g.Entry.Kind == EntryKind.Clause).GroupBy(g => g.Entry.Group).Select(Summarize).ToArray();
        var objectives = leaves.Where(g => g.Entry.Kind == EntryKind.Control).GroupBy(g => g.Entry.Group).Select(Summarize).ToArray();
        var overall = Summarize(leaves.GroupBy(_ => "Overall").Single());
        var owned = gaps.Select(g => _options.Owners.TryGetValue(g.Entry.Id, out var owner) ? g with { Owner = owner } : g).ToArray();
        return new GapReport(now, owned, clauses, objectives, overall);
    }

    /// <summary>Findings per entry; a child control's findings count for its container too.</summary>
    private ILookup<string, EvidenceLink> FindingsByEntry(IReadOnlyList<EvidenceLink> findings)
    {
        var containerOf = ContainerMap(catalog);
        return findings.SelectMany(f => containerOf.TryGetValue(f.Mapping.ControlId, out var c)
                ? new[] { (Entry: f.Mapping.ControlId, Link: f), (Entry: c, Link: f) }
                : [(Entry: f.Mapping.ControlId, Link: f)])
            .ToLookup(x => x.Entry, x => x.Link, StringComparer.Ordinal);
    }

    /// <summary>
    /// The newest finding of an entry when it is still open: no supporting evidence of the entry is dated later (see
    /// <see cref="GapStatus.Nonconformity"/>). Of several newest findings the most likely (then lowest id) is cited.
    /// </summary>
    private static EvidenceLink? OpenFinding(IEnumerable<EvidenceLink> findings, EntryEvidence? support)
    {
        var newest = findings.OrderByDescending(f => Day(f.Document.EvidenceDate)).ThenByDescending(f => f.Mapping.Review == ReviewState.Accepted)
            .ThenByDescending(f => f.Mapping.Score).ThenBy(f => f.Mapping.Id, StringComparer.Ordinal).FirstOrDefault();
        if (newest is null)
        {
            return null;
        }

        if (support is null)
        {
            return newest;
        }

        var closed = newest.Document.KnownDate is { } dated
            ? support.NewestDated > dated
            : support.NewestDated > Day(newest.Document.IngestedAt) || support.NewestUndatedIngest > Day(newest.Document.IngestedAt);
        return closed ? null : newest;
    }

    private static ControlGap Nonconformity(CatalogEntry entry, EvidenceLink finding, EntryEvidence? support, int findings)
    {
        var day = Day(finding.Document.EvidenceDate);
        var reason = string.Create(
            System.Globalization.CultureInfo.InvariantCulture,
            $"open finding in {CitationText.Of(finding.Document, finding.Passage)} ({day:yyyy-MM-dd}, mapping probability {Truncate(finding.Mapping.Score):0.000}{FindingWhy(finding)}): no supporting evidence of the entry is dated after it");
        var citation = CitationOf(finding);
        return new ControlGap(entry, GapStatus.Nonconformity, reason, support?.BestScore ?? 0, support?.Passages ?? 0, support?.Documents ?? 0, citation, [], support?.Newest ?? finding.Document.EvidenceDate)
        {
            Findings = findings,
        };
    }

    /// <summary>
    /// What made the mapping a finding: a reviewer (a manual finding, or a mapping accepted as a finding), the LLM
    /// judge, or the polarity model's probability for the passage against its threshold (kept with the passage's
    /// candidates), so a finding barely over the threshold reads as one.
    /// </summary>
    private static string FindingWhy(EvidenceLink finding) => finding.Mapping switch
    {
        { Method: MappingMethods.Manual } => "; recorded as a finding by a reviewer",
        { Review: ReviewState.Accepted } => "; accepted as a finding by a reviewer",
        { Method: MappingMethods.Llm } => "; the LLM judge read it as a finding",
        _ when finding.Passage.Candidates is { Finding: { } p } c => string.Create(
            System.Globalization.CultureInfo.InvariantCulture,
            $"; it states a finding with probability {Truncate(p):0.000}, threshold {c.FindingThreshold:0.00##}"),
        _ => string.Empty,
    };

    private static Citation CitationOf(EvidenceLink link) =>
        new(link.Document.Id, link.Document.Name, link.Document.DocType, link.Passage.Page, link.Passage.Headings, link.Passage.Id, link.Passage.Text, link.Mapping.Id, link.Mapping.Score, link.Mapping.Method, link.Mapping.Rationale, link.Mapping.Review)
        {
            Polarity = link.Mapping.Polarity,
            RowStart = link.Passage.RowStart,
            RowEnd = link.Passage.RowEnd,
        };

    private static DateOnly Day(DateTimeOffset t) => DateOnly.FromDateTime(t.UtcDateTime);

    /// <summary>Probabilities in reasons are truncated to three decimals, never rounded up past a threshold they missed.</summary>
    private static double Truncate(double p) => Math.Floor(p * 1000) / 1000;

    private ControlGap Evaluate(CatalogEntry entry, EntryEvidence? e, IReadOnlyCollection<string> presentDocTypes, DateTimeOffset now)
    {
        var expected = ExpectedDocuments.For(entry);
        var missingTypes = expected.Where(t => !presentDocTypes.Contains(t)).ToArray();
        if (e is null)
        {
            var why = missingTypes.Length > 0 ? $"no evidence; no {string.Join(" or ", missingTypes)} document was ingested" : "no evidence found in any current document";
            return new ControlGap(entry, GapStatus.Missing, why, 0, 0, 0, null, missingTypes, null);
        }

        var citation = CitationOf(e.Best);
        var inv = System.Globalization.CultureInfo.InvariantCulture;

        GapStatus status;
        string reason;
        if (now - e.Newest > _options.ReviewPeriod)
        {
            status = GapStatus.Stale;
            reason = string.Create(inv, $"newest evidence dates from {e.Newest:yyyy-MM-dd}, more than the review period of {_options.ReviewPeriod.TotalDays:0} days before {now:yyyy-MM-dd}");
        }
        else if (e.AnyAccepted)
        {
            status = GapStatus.Covered;
            reason = "evidence accepted by a reviewer";
        }
        else if (!e.AnyStrong)
        {
            status = GapStatus.Weak;
            reason = string.Create(inv, $"best probability {Truncate(e.BestScore):0.000} is below {_options.StrongScore:0.00}");
        }
        else if (e.Passages < 2)
        {
            status = GapStatus.Weak;
            reason = string.Create(inv, $"a single passage is the only support (probability {Truncate(e.BestScore):0.000}); covered needs at least 2");
        }
        else if (e.AnyStrongFromExpected)
        {
            status = GapStatus.Covered;
            reason = string.Create(inv, $"{e.Passages} passages in {e.Documents} document(s), best probability {Truncate(e.BestScore):0.000} (at least {_options.StrongScore:0.00})");
        }
        else
        {
            status = GapStatus.Suggested;
            reason = string.Create(inv, $"strong suggestions (best probability {Truncate(e.BestScore):0.000}), but none from an expected {string.Join("/", expected)} document; needs review");
        }

        return new ControlGap(entry, status, reason, e.BestScore, e.Passages, e.Documents, citation, missingTypes, e.Newest);
    }

    /// <summary>What the status rules need about one entry's (non-rejected) evidence, however it was gathered.</summary>
    private sealed record EntryEvidence(int Passages, int Documents, double BestScore, bool AnyAccepted, bool AnyStrong, bool AnyStrongFromExpected, DateTimeOffset Newest, EvidenceLink Best)
    {
        /// <summary>The newest known (effective or stated) date among the supporting documents.</summary>
        public DateOnly? NewestDated { get; init; }

        /// <summary>The latest ingestion day among supporting documents without a known date.</summary>
        public DateOnly? NewestUndatedIngest { get; init; }
    }

    private static CoverageGroup Summarize(IGrouping<string, ControlGap> group) => new(
        group.Key,
        group.Count(),
        group.Count(g => g.Status == GapStatus.Covered),
        group.Count(g => g.Status == GapStatus.Suggested),
        group.Count(g => g.Status == GapStatus.Weak),
        group.Count(g => g.Status == GapStatus.Stale),
        group.Count(g => g.Status == GapStatus.Missing),
        group.Count(g => g.Status == GapStatus.Nonconformity));
}
