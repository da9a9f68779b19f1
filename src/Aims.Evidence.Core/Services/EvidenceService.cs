using Aims.Evidence.Core.Catalog;
using Aims.Evidence.Core.Gaps;
using Aims.Evidence.Core.Storage;

namespace Aims.Evidence.Core.Services;

/// <summary>
/// The read-side queries every host shares (CLI, REST API, Functions): one implementation of each, over the store abstraction.
/// </summary>
/// <remarks>
/// Applicability decisions come from <paramref name="applicability"/>, else from the store when it keeps them; the gap
/// report cache is keyed by the store version, so a store that caches must count applicability writes as writes.
/// </remarks>
public sealed class EvidenceService(IEvidenceStore store, IsoCatalog catalog, GapOptions? gapOptions = null, IApplicabilityStore? applicability = null)
{
    public IsoCatalog Catalog => catalog;

    public IEvidenceStore Store => store;

    /// <summary>The AI-system inventory derived from the store's documents (cached per store version), with the reviewer edits the store keeps.</summary>
    public Inventory.AiSystemInventory Inventory { get; } = new(store);

    /// <summary>How old the newest evidence of an entry may be before the entry is stale.</summary>
    public TimeSpan ReviewPeriod => (gapOptions ?? new GapOptions()).ReviewPeriod;

    private readonly Lock _gapLock = new();
    private volatile CachedGapReport? _gapCache;
    private (long Version, Task<CachedGapReport> Analysis)? _gapInFlight;

    /// <summary>
    /// The gap report. With a store that has a version (<see cref="IStoreVersion"/>), the report is cached until the
    /// store changes or until the first moment an entry would turn stale with the passing of time, so it stays
    /// identical to a fresh analysis; only <see cref="GapReport.GeneratedAt"/> is re-stamped. One analysis runs at a
    /// time: while it runs for an older store version, callers get the last finished report (it lags the writes by
    /// that one analysis); with no analysis running, a caller after a write always gets a fresh one.
    /// </summary>
    public async Task<GapReport> GetGapReportAsync(CancellationToken cancellationToken = default)
    {
        var entry = await GetEntryAsync(cancellationToken).ConfigureAwait(false);
        return entry.Report with { GeneratedAt = gapOptions?.Now ?? DateTimeOffset.UtcNow };
    }

    /// <summary>
    /// The gap report with every evidence link (what the SoA and OSCAL exports cite), cached alike: the links are read
    /// once per store version, on the first call that needs them, not per request. The gap report itself does not
    /// need them when the store keeps the gap read model (<see cref="IGapEvidenceSource"/>), so they are read after it
    /// and may include a write that landed in between.
    /// </summary>
    public async Task<GapSnapshot> GetGapSnapshotAsync(CancellationToken cancellationToken = default)
    {
        var entry = await GetEntryAsync(cancellationToken).ConfigureAwait(false);
        var links = await entry.Links.Value.WaitAsync(cancellationToken).ConfigureAwait(false);
        return new GapSnapshot(entry.Report with { GeneratedAt = gapOptions?.Now ?? DateTimeOffset.UtcNow }, links);
    }

    /// <summary>The cached analysis of the current store version; a fresh one per call for a store without a version.</summary>
    private async Task<CachedGapReport> GetEntryAsync(CancellationToken cancellationToken)
    {
        if (store is IStoreVersion versioned)
        {
            return await GetCachedAsync(versioned, cancellationToken).ConfigureAwait(false);
        }

        // Not cached: without a version there is no telling when the store changes.
        var (report, links) = await AnalyzeAsync(cancellationToken).ConfigureAwait(false);
        return Entry(-1, report, links);
    }

    private async Task<CachedGapReport> GetCachedAsync(IStoreVersion versioned, CancellationToken cancellationToken)
    {
        var version = await versioned.GetVersionAsync(cancellationToken).ConfigureAwait(false);
        var now = gapOptions?.Now ?? DateTimeOffset.UtcNow;
        if (_gapCache is { } cached && cached.Version == version && now < cached.ValidUntil)
        {
            return cached;
        }

        // At most one analysis at a time. Callers of its version share it; while it runs for an older version (writes
        // keep coming, e.g. during ingestion), others get the last finished report instead of starting another
        // analysis each: under 64 connections that pile-up made every gap-report request time out (the soak).
        Task<CachedGapReport> analysis;
        lock (_gapLock)
        {
            if (_gapInFlight is { } running)
            {
                if (running.Version != version && _gapCache is { } previous && now < previous.ValidUntil)
                {
                    return previous;
                }

                analysis = running.Analysis;
            }
            else
            {
                // Started on the pool, so its cleanup (which takes this lock) always runs after the assignment below.
                analysis = Task.Run(() => AnalyzeAndCacheAsync(version), CancellationToken.None);
                _gapInFlight = (version, analysis);
            }
        }

        return await analysis.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    private async Task<CachedGapReport> AnalyzeAndCacheAsync(long version)
    {
        try
        {
            var (report, links) = await AnalyzeAsync(CancellationToken.None).ConfigureAwait(false);
            var cached = Entry(version, report, links);
            _gapCache = cached;
            return cached;
        }
        finally
        {
            lock (_gapLock)
            {
                if (_gapInFlight is { } running && running.Version == version)
                {
                    _gapInFlight = null;
                }
            }
        }
    }

    /// <summary>
    /// An analysis with its validity: until the first moment a non-stale entry would turn stale with the passing of
    /// time. The links are the analysis' own when it read them, otherwise read on first use.
    /// </summary>
    private CachedGapReport Entry(long version, GapReport report, IReadOnlyList<EvidenceLink>? links)
    {
        var period = (gapOptions ?? new GapOptions()).ReviewPeriod;
        var validUntil = report.Entries
            .Where(e => e.Status != GapStatus.Stale && e.NewestEvidence is not null)
            .Select(e => e.NewestEvidence!.Value + period)
            .DefaultIfEmpty(DateTimeOffset.MaxValue)
            .Min();
        var lazyLinks = links is null
            ? new Lazy<Task<IReadOnlyList<EvidenceLink>>>(() => store.GetEvidenceAsync(null, CancellationToken.None))
            : new Lazy<Task<IReadOnlyList<EvidenceLink>>>(Task.FromResult(links));
        return new CachedGapReport(version, report, lazyLinks, validUntil);
    }

    /// <summary>The gap report, and the links when the analysis had to read them anyway (stores without the read model).</summary>
    private async Task<(GapReport Report, IReadOnlyList<EvidenceLink>? Links)> AnalyzeAsync(CancellationToken cancellationToken)
    {
        var options = gapOptions ?? new GapOptions();
        if ((applicability ?? store as IApplicabilityStore) is { } decisions)
        {
            options = options with
            {
                Applicability = (await decisions.ListApplicabilityAsync(cancellationToken).ConfigureAwait(false)).ToDictionary(d => d.ControlId, StringComparer.Ordinal),
            };
        }

        if (store is IOwnerStore owners)
        {
            options = options with
            {
                Owners = (await owners.ListOwnersAsync(cancellationToken).ConfigureAwait(false)).ToDictionary(o => o.ControlId, StringComparer.Ordinal),
            };
        }

        if (store is IGapEvidenceSource aggregates)
        {
            // Aggregates the store keeps up to date at write time: a few rows per entry and document, not every mapping.
            var evidence = await aggregates.GetGapEvidenceAsync(GapAnalyzer.ContainerMap(catalog), cancellationToken).ConfigureAwait(false);
            return (new GapAnalyzer(catalog, options).Analyze(evidence), null);
        }

        var links = await store.GetEvidenceAsync(null, cancellationToken).ConfigureAwait(false);
        var documents = await store.ListDocumentsAsync(false, cancellationToken).ConfigureAwait(false);
        var present = documents.Where(d => d.Status == DocumentStatus.Processed && d.DocType is not null)
            .Select(d => d.DocType!).ToHashSet(StringComparer.Ordinal);
        return (new GapAnalyzer(catalog, options).Analyze(links, present), links);
    }

    private sealed record CachedGapReport(long Version, GapReport Report, Lazy<Task<IReadOnlyList<EvidenceLink>>> Links, DateTimeOffset ValidUntil);

    /// <summary>One line per passage of every current processed document, with the mappings the system stands behind (score-descending).</summary>
    public async IAsyncEnumerable<PassageExport> ExportPassagesAsync([System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var documents = await store.ListDocumentsAsync(false, cancellationToken).ConfigureAwait(false);
        foreach (var doc in documents.Where(d => d.Status == DocumentStatus.Processed))
        {
            var passages = await store.GetPassagesAsync(doc.Id, cancellationToken).ConfigureAwait(false);
            foreach (var (passage, mappings) in passages)
            {
                yield return new PassageExport(
                    new ExportDocument(doc.Id, doc.Name, doc.Sha256, doc.DocType, doc.DocTypeConfidence, doc.Status.ToString().ToLowerInvariant()),
                    new ExportPassage(passage.Id, passage.Ordinal, passage.Page, passage.Headings, passage.Text),
                    mappings.Where(m => m.Review != ReviewState.Rejected)
                        .OrderByDescending(m => m.Score)
                        .Select(m => new ExportMapping(m.ControlId, m.Score, m.Method, m.Rationale))
                        .ToArray());
            }
        }
    }
}

public sealed record PassageExport(ExportDocument Document, ExportPassage Passage, IReadOnlyList<ExportMapping> Mappings);

public sealed record ExportDocument(string Id, string Name, string Sha256, string? DocType, double DocTypeConfidence, string Status);

public sealed record ExportPassage(string Id, int Ordinal, int Page, IReadOnlyList<string> Headings, string Text);

public sealed record ExportMapping(string ControlId, double Score, string Method, string Rationale);

/// <summary>A gap report and the evidence links it was computed from.</summary>
public sealed record GapSnapshot(GapReport Report, IReadOnlyList<EvidenceLink> Evidence);
