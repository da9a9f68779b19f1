using System.Collections.Concurrent;

namespace Aims.Evidence.Core.Llm;

/// <summary>What LLM mapping cost for one document in one run.</summary>
public sealed record LlmUsage
{
    public string? DocumentId { get; init; }

    public string? DocumentName { get; init; }

    public string? RunId { get; init; }

    public string? Model { get; init; }

    public string? PromptVersion { get; init; }

    /// <summary>Model calls made, including repair attempts (retries inside one HTTP call are not counted).</summary>
    public int Calls { get; init; }

    public long PromptTokens { get; init; }

    public long CompletionTokens { get; init; }

    /// <summary>Passages answered from the cache instead of the model.</summary>
    public int CacheHits { get; init; }

    /// <summary>Control ids the model returned that were not offered for the passage or are not in the catalog.</summary>
    public int RejectedIds { get; init; }

    /// <summary>Batches that fell back to the embedded mapper (errors, invalid JSON twice, spent budget).</summary>
    public int Fallbacks { get; init; }

    /// <summary>Repair attempts after invalid JSON.</summary>
    public int Repairs { get; init; }

    /// <summary>Personal identifiers replaced by placeholders before sending (counts only, never the values).</summary>
    public int Redactions { get; init; }

    public LlmUsage Add(LlmUsage other)
    {
        ArgumentNullException.ThrowIfNull(other);
        return this with
        {
            Calls = Calls + other.Calls,
            PromptTokens = PromptTokens + other.PromptTokens,
            CompletionTokens = CompletionTokens + other.CompletionTokens,
            CacheHits = CacheHits + other.CacheHits,
            RejectedIds = RejectedIds + other.RejectedIds,
            Fallbacks = Fallbacks + other.Fallbacks,
            Repairs = Repairs + other.Repairs,
            Redactions = Redactions + other.Redactions,
        };
    }
}

/// <summary>
/// One cached judgement: a control the model stood behind for a passage, with its polarity ("supports" or "finding";
/// null when the answer had none, and the trained polarity model decides).
/// </summary>
public sealed record CachedControl(string Id, double Confidence, string Rationale, string? Polarity = null);

/// <summary>Where the LLM mapper keeps its cache and its usage records (SQLite in the local composition).</summary>
public interface ILlmLedger
{
    /// <summary>Cached judgements keyed by passage text sha256, for one prompt version and model.</summary>
    Task<IReadOnlyDictionary<string, IReadOnlyList<CachedControl>>> GetCachedAsync(IReadOnlyCollection<string> passageSha256s, string promptVersion, string model, CancellationToken cancellationToken = default);

    Task PutCachedAsync(IReadOnlyDictionary<string, IReadOnlyList<CachedControl>> entries, string promptVersion, string model, CancellationToken cancellationToken = default);

    Task RecordUsageAsync(LlmUsage usage, CancellationToken cancellationToken = default);

    /// <summary>Totals over all recorded usage (Calls, tokens, cache hits, rejected ids, fallbacks).</summary>
    Task<LlmUsage> GetTotalsAsync(CancellationToken cancellationToken = default);
}

/// <summary>A process-lifetime ledger, for hosts without a database.</summary>
public sealed class InMemoryLlmLedger : ILlmLedger
{
    private readonly ConcurrentDictionary<(string, string, string), IReadOnlyList<CachedControl>> _cache = new();
    private readonly ConcurrentQueue<LlmUsage> _usage = new();

    public IReadOnlyCollection<LlmUsage> Usage => _usage;

    public Task<IReadOnlyDictionary<string, IReadOnlyList<CachedControl>>> GetCachedAsync(IReadOnlyCollection<string> passageSha256s, string promptVersion, string model, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(passageSha256s);
        var found = new Dictionary<string, IReadOnlyList<CachedControl>>(StringComparer.Ordinal);
        foreach (var sha in passageSha256s)
        {
            if (_cache.TryGetValue((sha, promptVersion, model), out var value))
            {
                found[sha] = value;
            }
        }

        return Task.FromResult<IReadOnlyDictionary<string, IReadOnlyList<CachedControl>>>(found);
    }

    public Task PutCachedAsync(IReadOnlyDictionary<string, IReadOnlyList<CachedControl>> entries, string promptVersion, string model, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(entries);
        foreach (var (sha, controls) in entries)
        {
            _cache[(sha, promptVersion, model)] = controls;
        }

        return Task.CompletedTask;
    }

    public Task RecordUsageAsync(LlmUsage usage, CancellationToken cancellationToken = default)
    {
        _usage.Enqueue(usage);
        return Task.CompletedTask;
    }

    public Task<LlmUsage> GetTotalsAsync(CancellationToken cancellationToken = default) =>
        Task.FromResult(_usage.Aggregate(new LlmUsage(), (a, b) => a.Add(b)));
}
