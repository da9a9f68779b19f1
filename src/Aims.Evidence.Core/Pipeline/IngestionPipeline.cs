using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using Aims.Evidence.Core.Catalog;
using Aims.Evidence.Core.Classification;
using Aims.Evidence.Core.Extraction;
using Aims.Evidence.Core.Inventory;
using Aims.Evidence.Core.Mapping;
using Aims.Evidence.Core.Mapping.Feedback;
using Aims.Evidence.Core.Segmentation;
using Aims.Evidence.Core.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Aims.Evidence.Core.Pipeline;

/// <summary>What happened to one document in one ingestion.</summary>
public enum IngestStatus
{
    Processed,
    Failed,
    Skipped,

    /// <summary>The same bytes were already ingested: nothing changed.</summary>
    Unchanged,
}

public sealed record IngestOutcome(string Name, IngestStatus Status, DocumentRecord? Document, string? Reason)
{
    public TimeSpan Elapsed { get; init; }
}

/// <summary>Ingests one document: the entry point every host (CLI, watcher, blob trigger) calls.</summary>
public interface IDocumentIngestor
{
    Task<IngestOutcome> IngestAsync(string name, ReadOnlyMemory<byte> content, CancellationToken cancellationToken = default);
}

public sealed record PipelineOptions
{
    public ExtractionLimits Limits { get; init; } = ExtractionLimits.Default;

    /// <summary>Recorded on document versions written in this run.</summary>
    public string? RunId { get; init; }
}

/// <summary>
/// The one pipeline: hash, de-duplicate, extract, segment, classify, map, store. Each stage is a small class of
/// its own; this class only orders them and turns every failure into a recorded status with a reason.
/// </summary>
public sealed class IngestionPipeline(
    IDocumentReader reader,
    Segmenter segmenter,
    IDocumentClassifier classifier,
    IControlMapper mapper,
    IEvidenceStore store,
    IsoCatalog catalog,
    PipelineOptions? options = null,
    ILogger<IngestionPipeline>? logger = null,
    IReviewStore? reviews = null,
    IIngestionAttemptStore? attempts = null,
    IAiSystemLister? systems = null,
    IAiSystemEditStore? systemEdits = null) : IDocumentIngestor
{
    private readonly IAiSystemEditStore? _systemEdits = systemEdits ?? store as IAiSystemEditStore;
    /// <summary>A document whose ingestion stopped the process this many times is failed instead of parsed again.</summary>
    public const int MaxUnfinishedAttempts = 2;

    private readonly IReviewStore? _reviews = reviews ?? store as IReviewStore;
    private readonly IIngestionAttemptStore? _attempts = attempts ?? store as IIngestionAttemptStore;
    /// <summary>Attempts in flight in this process per attempt store (pipelines are cheap and hosts make several over one store).</summary>
    private static readonly ConditionalWeakTable<IIngestionAttemptStore, Dictionary<string, int>> InFlightByStore = [];

    private Dictionary<string, int> InFlight => InFlightByStore.GetValue(_attempts!, _ => new Dictionary<string, int>(StringComparer.Ordinal));
    private readonly PipelineOptions _options = options ?? new PipelineOptions();
    private readonly ILogger _logger = logger ?? NullLogger<IngestionPipeline>.Instance;

    public IControlMapper Mapper => mapper;

    /// <summary>The caps this pipeline enforces; hosts check <see cref="ExtractionLimits.MaxFileBytes"/> before reading a file.</summary>
    public ExtractionLimits Limits => _options.Limits;

    /// <summary>
    /// Ingests a file from disk. A file over <see cref="ExtractionLimits.MaxFileBytes"/> is never loaded into memory:
    /// it is hashed as a stream and recorded as failed with the reason. A path that is not a regular file (symbolic
    /// link, FIFO, socket, device) is recorded as skipped and never opened.
    /// </summary>
    public async Task<IngestOutcome> IngestFileAsync(string name, string path, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        if (SpecialFiles.Kind(path) is { } kind)
        {
            return await RecordNotRegularAsync(name, kind, cancellationToken).ConfigureAwait(false);
        }

        var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, useAsync: true);
        await using (stream.ConfigureAwait(false))
        {
            // Never more than the cap is buffered, whatever the file's stated size: a file that reports 0 bytes and
            // streams on (a /proc entry, a file still growing) is cut at the cap and recorded as over it.
            if (stream.Length <= _options.Limits.MaxFileBytes
                && await ReadWithinAsync(stream, _options.Limits.MaxFileBytes, cancellationToken).ConfigureAwait(false) is { } bytes)
            {
                return await IngestAsync(name, bytes, cancellationToken).ConfigureAwait(false);
            }

            stream.Position = 0;
            return await RecordOversizedAsync(name, stream, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>The whole stream when it holds at most <paramref name="limit"/> bytes; null (having read limit + 1) otherwise.</summary>
    private static async Task<ReadOnlyMemory<byte>?> ReadWithinAsync(Stream stream, long limit, CancellationToken cancellationToken)
    {
        // One byte beyond the stated length, so the end of a file that keeps its size is seen without growing the buffer.
        limit = Math.Min(limit, Array.MaxLength - 1);
        var buffer = new byte[(int)Math.Min(Math.Max(stream.Length + 1, 1 << 12), limit + 1)];
        var filled = 0;
        while (true)
        {
            if (filled == buffer.Length)
            {
                if (filled > limit)
                {
                    return null;
                }

                Array.Resize(ref buffer, (int)Math.Min((long)buffer.Length * 2, limit + 1));
            }

            var read = await stream.ReadAsync(buffer.AsMemory(filled), cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                return buffer.AsMemory(0, filled);
            }

            filled += read;
        }
    }

    /// <summary>Records a document over the size cap as failed without buffering it: the bytes are only hashed.</summary>
    public async Task<IngestOutcome> RecordOversizedAsync(string name, Stream content, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(content);
        name = CleanName(name);
        var clock = Stopwatch.StartNew();
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = new byte[1 << 16];
        long size = 0;
        int read;
        while ((read = await content.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
        {
            hash.AppendData(buffer, 0, read);
            size += read;
        }

        var sha = Convert.ToHexStringLower(hash.GetHashAndReset());
        var current = await store.GetCurrentByNameAsync(name, cancellationToken).ConfigureAwait(false);
        if (current is not null && current.Sha256 == sha)
        {
            return new IngestOutcome(name, IngestStatus.Unchanged, current, "already ingested with the same content") { Elapsed = clock.Elapsed };
        }

        var reason = OversizeReason(size);
        _logger.LogWarning("{Name} {Status}: {Reason}", name, DocumentStatus.Failed, reason);
        return await RecordWithoutPassagesAsync(NewRecord(name, sha, size) with { Status = DocumentStatus.Failed, Reason = reason }, clock, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Records a path that is not a regular file (<see cref="SpecialFiles.Kind"/>) as skipped with its kind, without
    /// opening it. Its hash stands for the kind (no content was read), so finding it again reports it unchanged.
    /// </summary>
    public async Task<IngestOutcome> RecordNotRegularAsync(string name, string kind, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(kind);
        name = CleanName(name);
        var clock = Stopwatch.StartNew();
        var reason = SpecialFiles.SkipReason(kind);
        var sha = Convert.ToHexStringLower(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes("aims:not-a-regular-file:" + kind)));
        var current = await store.GetCurrentByNameAsync(name, cancellationToken).ConfigureAwait(false);
        if (current is not null && current.Sha256 == sha)
        {
            return new IngestOutcome(name, IngestStatus.Unchanged, current, "already recorded: " + reason) { Elapsed = clock.Elapsed };
        }

        _logger.LogWarning("{Name} {Status}: {Reason}", name, DocumentStatus.Skipped, reason);
        return await RecordWithoutPassagesAsync(NewRecord(name, sha, 0) with { Status = DocumentStatus.Skipped, Reason = reason }, clock, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// A document name as stored and shown: control characters (newlines, escapes, NUL) become '_', surrounding
    /// whitespace is trimmed and very long names keep their first 200 and last 100 characters.
    /// </summary>
    public static string CleanName(string name)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        var chars = name.Select(c => char.IsControl(c) || c is '\u2028' or '\u2029' ? '_' : c).ToArray();
        var clean = new string(chars).Trim();
        if (clean.Length == 0)
        {
            clean = "_";
        }

        return clean.Length > 300 ? clean[..200] + "…" + clean[^100..] : clean;
    }

    public async Task<IngestOutcome> IngestAsync(string name, ReadOnlyMemory<byte> content, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        name = CleanName(name);
        var clock = Stopwatch.StartNew();
        var sha = Convert.ToHexStringLower(SHA256.HashData(content.Span));

        var current = await store.GetCurrentByNameAsync(name, cancellationToken).ConfigureAwait(false);
        if (current is not null && current.Sha256 == sha)
        {
            return new IngestOutcome(name, IngestStatus.Unchanged, current, "already ingested with the same content") { Elapsed = clock.Elapsed };
        }

        var twin = await store.FindCurrentBySha256Async(sha, cancellationToken).ConfigureAwait(false);
        if (twin is not null && twin.Status == DocumentStatus.Processed)
        {
            return new IngestOutcome(name, IngestStatus.Unchanged, twin, $"identical to already ingested \"{twin.Name}\"") { Elapsed = clock.Elapsed };
        }

        var baseRecord = NewRecord(name, sha, content.Length);

        if (_attempts is null)
        {
            return await ParseAndStoreAsync(name, content, baseRecord, clock, cancellationToken).ConfigureAwait(false);
        }

        // Recorded before parsing and cleared once the document has a status: an attempt still recorded at the next
        // start means the process died inside it, and a document that did so twice is not parsed a third time.
        // Workers of this process ingesting the same bytes into the same store at once share one attempt.
        var inFlight = InFlight;
        bool first;
        lock (inFlight)
        {
            first = !inFlight.TryGetValue(sha, out var running);
            inFlight[sha] = running + 1;
        }

        var unfinished = 0;
        try
        {
            if (first)
            {
                unfinished = await _attempts.BeginAttemptAsync(sha, name, cancellationToken).ConfigureAwait(false);
            }

            if (unfinished >= MaxUnfinishedAttempts)
            {
                var reason = $"ingesting this file stopped the process {unfinished} times before it finished (a crash while parsing or mapping it); it is not parsed again: replace or remove the file";
                _logger.LogError("{Name} {Status}: {Reason}", name, DocumentStatus.Failed, reason);
                return await RecordWithoutPassagesAsync(baseRecord with { Status = DocumentStatus.Failed, Reason = reason }, clock, cancellationToken).ConfigureAwait(false);
            }

            return await ParseAndStoreAsync(name, content, baseRecord, clock, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            // Any way out of here but the process dying (a status, an exception, a cancelled shutdown) ends the attempt.
            bool last;
            lock (inFlight)
            {
                last = --inFlight[sha] == 0;
                if (last)
                {
                    inFlight.Remove(sha);
                }
            }

            if (last)
            {
                await _attempts.EndAttemptAsync(sha, CancellationToken.None).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Extract, segment, classify, map, store: every outcome a status with a reason.</summary>
    private async Task<IngestOutcome> ParseAndStoreAsync(string name, ReadOnlyMemory<byte> content, DocumentRecord baseRecord, Stopwatch clock, CancellationToken cancellationToken)
    {
        ExtractedDocument extracted;
        try
        {
            if (content.Length > _options.Limits.MaxFileBytes)
            {
                throw new DocumentRejectedException(RejectionKind.Invalid, OversizeReason(content.Length));
            }

            extracted = await reader.ReadAsync(content, name, _options.Limits, cancellationToken).ConfigureAwait(false);
        }
        catch (DocumentRejectedException ex)
        {
            var status = ex.Kind == RejectionKind.Unsupported ? DocumentStatus.Skipped : DocumentStatus.Failed;
            _logger.LogWarning("{Name} {Status}: {Reason}", name, status, ex.Message);
            return await RecordWithoutPassagesAsync(baseRecord with { Status = status, Reason = ex.Message }, clock, cancellationToken).ConfigureAwait(false);
        }

        var passages = segmenter.Segment(extracted);
        if (passages.Count == 0)
        {
            const string reason = "no readable text was found in the document";
            return await RecordWithoutPassagesAsync(baseRecord with { Status = DocumentStatus.Failed, Reason = reason, MediaType = extracted.MediaType, PageCount = extracted.PageCount }, clock, cancellationToken).ConfigureAwait(false);
        }

        if (passages.Count > _options.Limits.MaxPassages)
        {
            var reason = $"the {DocumentReader.FormatName(extracted.MediaType)} file has {passages.Count} passages, over the limit of {_options.Limits.MaxPassages}";
            _logger.LogWarning("{Name} {Status}: {Reason}", name, DocumentStatus.Failed, reason);
            return await RecordWithoutPassagesAsync(baseRecord with { Status = DocumentStatus.Failed, Reason = reason, MediaType = extracted.MediaType, PageCount = extracted.PageCount }, clock, cancellationToken).ConfigureAwait(false);
        }

        var classification = await classifier.ClassifyAsync(extracted, passages, name, _options.RunId, cancellationToken).ConfigureAwait(false);
        var decisions = _reviews is null ? [] : await _reviews.ListReviewDecisionsAsync(cancellationToken).ConfigureAwait(false);
        var memory = decisions.Count == 0 ? null : ReviewMemory.Build(decisions);
        var context = new MappingContext(name, classification.DocType, classification.Confidence, classification.DocType != DocumentTypes.Unrelated)
        {
            DocumentId = baseRecord.Id,
            RunId = _options.RunId,
            Candidates = new CandidateSink(passages.Count),
            Reviews = memory,
        };
        var suggestions = await mapper.MapAsync(passages, context, cancellationToken).ConfigureAwait(false);
        suggestions = ApplyReviews(passages, context.Candidates, suggestions, decisions, memory);

        // The LLM pass of the inventory (when configured): prose documents only; table inventories give their systems
        // row by row without a model, data cards describe data, unrelated documents no system.
        IReadOnlyList<AiSystemEdit> systemSuggestions = [];
        if (systems is not null && _systemEdits is not null && passages.All(p => p.RowStart is null)
            && classification.DocType is not (DocumentTypes.DataCard or DocumentTypes.Unrelated))
        {
            systemSuggestions = await systems.ListAsync(baseRecord.Id, name, classification.DocType, passages, _options.RunId, cancellationToken).ConfigureAwait(false);
        }

        var stated = DocumentDates.Find(extracted, baseRecord.IngestedAt);
        var document = baseRecord with
        {
            StatedDate = stated?.Date,
            StatedDateSource = stated?.Source,
            Status = DocumentStatus.Processed,
            MediaType = extracted.MediaType,
            DocType = classification.DocType,
            DocTypeConfidence = classification.Confidence,
            PageCount = extracted.PageCount,
            PassageCount = passages.Count,
        };

        var rows = new List<PassageWithMappings>(passages.Count);
        for (var i = 0; i < passages.Count; i++)
        {
            var p = passages[i];
            var passage = new PassageRecord
            {
                Id = $"{document.Id}-{p.Ordinal:D5}",
                DocumentId = document.Id,
                Ordinal = p.Ordinal,
                Page = p.Page,
                Headings = p.Headings,
                Text = p.Text,
                Start = p.Start,
                Length = p.Length,
                Kind = p.Kind.ToString().ToLowerInvariant(),
                RowStart = p.RowStart,
                RowEnd = p.RowEnd,
                Candidates = context.Candidates[i],
            };
            var mappings = suggestions[i]
                .Where(s => catalog.Contains(s.ControlId))
                .Select((s, k) => MappingRecord.From($"{passage.Id}-{k}", passage.Id, s, catalog.Version))
                .ToArray();
            rows.Add(new PassageWithMappings(passage, mappings));
        }

        var saved = await store.WriteDocumentAsync(new DocumentWrite(document, rows), cancellationToken).ConfigureAwait(false);
        if (saved.Id != document.Id)
        {
            // Another ingestion of the same bytes won the race (same name, or a twin under another name): the store
            // kept its version, not ours; the outcome is the one a sequential ingestion would have given.
            var reason = saved.Name == name ? "already ingested with the same content" : $"identical to already ingested \"{saved.Name}\"";
            return new IngestOutcome(name, IngestStatus.Unchanged, saved, reason) { Elapsed = clock.Elapsed };
        }

        foreach (var suggestion in systemSuggestions)
        {
            await _systemEdits!.AddAiSystemEditAsync(suggestion, cancellationToken).ConfigureAwait(false);
        }

        if (_logger.IsEnabled(LogLevel.Information))
        {
            _logger.LogInformation("{Name} processed: {Type}, {Passages} passages in {Elapsed} ms", name, classification.DocType, passages.Count, clock.ElapsedMilliseconds);
        }

        return new IngestOutcome(name, IngestStatus.Processed, saved, null) { Elapsed = clock.Elapsed };
    }

    /// <summary>
    /// The reviews stage: the decisions reviewers made in this store move the mapper's candidates of every passage
    /// (see <see cref="ReviewMemory"/>). A store that keeps no reviews, or none yet, leaves the suggestions as they are.
    /// </summary>
    private IReadOnlyList<IReadOnlyList<MappingSuggestion>> ApplyReviews(
        IReadOnlyList<Passage> passages, CandidateSink sink, IReadOnlyList<IReadOnlyList<MappingSuggestion>> suggestions, IReadOnlyList<ReviewDecision> decisions, ReviewMemory? memory)
    {
        if (memory is null || memory.IsEmpty || Enumerable.Range(0, sink.Count).All(i => sink[i] is null))
        {
            return suggestions;
        }

        // Reviewed passages join the trained mapper's labelled passages, then the memory's own rules apply.
        var candidates = Enumerable.Range(0, sink.Count).Select(i => sink[i]).ToArray();
        var rescorer = ReviewRescorers.Find(mapper);
        if (rescorer?.Learn(decisions) is { } reviewed)
        {
            candidates = [.. rescorer.Rescore(passages, candidates, reviewed)];
        }

        return [.. suggestions.Select((s, i) => candidates[i] is { } c ? memory.Apply(passages[i].Headings, passages[i].Text, c, s, catalog) : s)];
    }

    /// <summary>A new document version of these bytes under this name, stamped with this run.</summary>
    private DocumentRecord NewRecord(string name, string sha, long size) => new()
    {
        Id = NewId(),
        Name = name,
        Sha256 = sha,
        Size = size,
        IngestedAt = DateTimeOffset.UtcNow,
        RunId = _options.RunId,
    };

    /// <summary>Stores a version that has a status and a reason but no passages (failed or skipped) and reports it.</summary>
    private async Task<IngestOutcome> RecordWithoutPassagesAsync(DocumentRecord record, Stopwatch clock, CancellationToken cancellationToken)
    {
        var stored = await store.WriteDocumentAsync(new DocumentWrite(record, []), cancellationToken).ConfigureAwait(false);
        var status = record.Status == DocumentStatus.Skipped ? IngestStatus.Skipped : IngestStatus.Failed;
        return new IngestOutcome(record.Name, status, stored, record.Reason) { Elapsed = clock.Elapsed };
    }

    /// <summary>The one wording of the size-cap reason, whether the file was streamed or already in memory.</summary>
    private string OversizeReason(long size) =>
        $"the file is {Megabytes(size)}, above the {Megabytes(_options.Limits.MaxFileBytes)} limit";

    private static string Megabytes(long bytes) => bytes >= 1024 * 1024 ? $"{bytes / (1024 * 1024)} MB" : $"{bytes} bytes";

    private static string NewId() => Guid.CreateVersion7().ToString("N");
}
