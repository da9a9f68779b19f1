using System.Globalization;
using System.Text.Json;
using Aims.Evidence.Core.Llm;

namespace Aims.Evidence.Sqlite;

/// <summary>LLM usage per document and run, and the LLM judgement cache (schema v3).</summary>
public sealed partial class SqliteEvidenceStore : ILlmLedger
{
    private static readonly JsonSerializerOptions CacheJson = new(JsonSerializerDefaults.Web);

    public async Task<IReadOnlyDictionary<string, IReadOnlyList<CachedControl>>> GetCachedAsync(IReadOnlyCollection<string> passageSha256s, string promptVersion, string model, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(passageSha256s);
        await InitializeAsync(cancellationToken).ConfigureAwait(false);
        var found = new Dictionary<string, IReadOnlyList<CachedControl>>(StringComparer.Ordinal);
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        foreach (var sha in passageSha256s)
        {
            await using var cmd = Command(connection, "SELECT result FROM llm_cache WHERE passage_sha256 = $p0 AND prompt_version = $p1 AND model = $p2", sha, promptVersion, model);
            if (await cmd.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is string json)
            {
                found[sha] = JsonSerializer.Deserialize<List<CachedControl>>(json, CacheJson) ?? [];
            }
        }

        return found;
    }

    public async Task PutCachedAsync(IReadOnlyDictionary<string, IReadOnlyList<CachedControl>> entries, string promptVersion, string model, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(entries);
        await InitializeAsync(cancellationToken).ConfigureAwait(false);
        await _writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
            await using var tx = (Microsoft.Data.Sqlite.SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            var now = DateTimeOffset.UtcNow.ToString("O", CultureInfo.InvariantCulture);
            foreach (var (sha, controls) in entries)
            {
                await ExecuteAsync(
                    connection,
                    "INSERT INTO llm_cache (passage_sha256, prompt_version, model, result, created_at) VALUES ($p0, $p1, $p2, $p3, $p4) ON CONFLICT (passage_sha256, prompt_version, model) DO UPDATE SET result = excluded.result, created_at = excluded.created_at",
                    cancellationToken,
                    tx,
                    sha,
                    promptVersion,
                    model,
                    JsonSerializer.Serialize(controls, CacheJson),
                    now).ConfigureAwait(false);
            }

            await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    public async Task RecordUsageAsync(LlmUsage usage, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(usage);
        await InitializeAsync(cancellationToken).ConfigureAwait(false);
        await _writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
            await ExecuteAsync(
                connection,
                """
                INSERT INTO llm_usage (document_id, document_name, run_id, model, prompt_version, calls, prompt_tokens, completion_tokens, cache_hits, rejected_ids, fallbacks, repairs, redactions, recorded_at)
                VALUES ($p0, $p1, $p2, $p3, $p4, $p5, $p6, $p7, $p8, $p9, $p10, $p11, $p12, $p13)
                """,
                cancellationToken,
                null,
                usage.DocumentId,
                usage.DocumentName,
                usage.RunId,
                usage.Model,
                usage.PromptVersion,
                usage.Calls,
                usage.PromptTokens,
                usage.CompletionTokens,
                usage.CacheHits,
                usage.RejectedIds,
                usage.Fallbacks,
                usage.Repairs,
                usage.Redactions,
                DateTimeOffset.UtcNow.ToString("O", CultureInfo.InvariantCulture)).ConfigureAwait(false);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    public Task<LlmUsage> GetTotalsAsync(CancellationToken cancellationToken = default) => GetLlmUsageAsync(null, cancellationToken);

    /// <summary>Usage totals, over everything or for one run.</summary>
    public async Task<LlmUsage> GetLlmUsageAsync(string? runId, CancellationToken cancellationToken = default)
    {
        await InitializeAsync(cancellationToken).ConfigureAwait(false);
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var cmd = Command(
            connection,
            "SELECT COALESCE(SUM(calls),0), COALESCE(SUM(prompt_tokens),0), COALESCE(SUM(completion_tokens),0), COALESCE(SUM(cache_hits),0), COALESCE(SUM(rejected_ids),0), COALESCE(SUM(fallbacks),0), COALESCE(SUM(repairs),0), COALESCE(SUM(redactions),0) FROM llm_usage WHERE $p0 IS NULL OR run_id = $p0",
            runId);
        await using var reader = await cmd.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
        return new LlmUsage
        {
            RunId = runId,
            Calls = reader.GetInt32(0),
            PromptTokens = reader.GetInt64(1),
            CompletionTokens = reader.GetInt64(2),
            CacheHits = reader.GetInt32(3),
            RejectedIds = reader.GetInt32(4),
            Fallbacks = reader.GetInt32(5),
            Repairs = reader.GetInt32(6),
            Redactions = reader.GetInt32(7),
        };
    }
}
