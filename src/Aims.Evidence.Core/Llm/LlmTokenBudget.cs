using System.Collections.Concurrent;

namespace Aims.Evidence.Core.Llm;

/// <summary>
/// The tokens (prompt + completion) each ingestion run has spent on model calls, against
/// <see cref="LlmOptions.TokenBudget"/>. One instance per composition, shared by every LLM stage (the mapper's judge
/// and the inventory pass), so the budget bounds what a run spends in all of them together. Calls without a run id
/// (<c>aims serve</c>, the Functions app) share one account for the life of the process.
/// </summary>
public sealed class LlmTokenBudget(long? limit)
{
    private readonly ConcurrentDictionary<string, long> _spent = new(StringComparer.Ordinal);

    public long? Limit => limit;

    public long Spent(string? runId) => _spent.GetValueOrDefault(runId ?? string.Empty);

    /// <summary>True when the run has spent its budget (never without one).</summary>
    public bool IsSpent(string? runId) => limit is { } l && Spent(runId) >= l;

    public void Add(string? runId, long tokens) => _spent.AddOrUpdate(runId ?? string.Empty, tokens, (_, v) => v + tokens);
}
