using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using Aims.Evidence.Core.Mapping;
using Aims.Evidence.Core.Mapping.Feedback;
using Aims.Evidence.Core.Storage;
using Microsoft.Data.Sqlite;

namespace Aims.Evidence.Sqlite;

/// <summary>Reviewer actions, audit log and API keys (schema v2).</summary>
public sealed partial class SqliteEvidenceStore
{
    private static readonly JsonSerializerOptions AuditJson = new(JsonSerializerDefaults.Web)
    {
        Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
    };

    public async Task<MappingRecord?> GetMappingAsync(string id, CancellationToken cancellationToken = default)
    {
        await InitializeAsync(cancellationToken).ConfigureAwait(false);
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        return await ReadMappingAsync(connection, null, id, cancellationToken).ConfigureAwait(false);
    }

    public async Task<PassageRecord?> GetPassageAsync(string id, CancellationToken cancellationToken = default)
    {
        await InitializeAsync(cancellationToken).ConfigureAwait(false);
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var cmd = Command(connection, $"SELECT {PassageColumns} FROM passages p WHERE p.id = $p0", id);
        await using var reader = await cmd.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        return await reader.ReadAsync(cancellationToken).ConfigureAwait(false) ? ReadPassage(reader, 0) : null;
    }

    public Task<MappingRecord?> ReviewMappingAsync(string mappingId, ReviewState state, string actor, string? comment, CancellationToken cancellationToken = default) =>
        ReviewAsync(mappingId, state, null, actor, comment, cancellationToken);

    public Task<MappingRecord?> AcceptWithPolarityAsync(string mappingId, MappingPolarity polarity, string actor, string? comment, CancellationToken cancellationToken = default) =>
        ReviewAsync(mappingId, ReviewState.Accepted, polarity, actor, comment, cancellationToken);

    /// <summary>Sets a mapping's review state and, when given, its polarity; the gap read model follows by trigger.</summary>
    private Task<MappingRecord?> ReviewAsync(string mappingId, ReviewState state, MappingPolarity? polarity, string actor, string? comment, CancellationToken cancellationToken) =>
        WriteAsync<MappingRecord>(
            async (connection, tx) =>
            {
                var before = await ReadMappingAsync(connection, tx, mappingId, cancellationToken).ConfigureAwait(false);
                if (before is null)
                {
                    return null;
                }

                var after = before with { Review = state, Polarity = polarity ?? before.Polarity };
                await ExecuteAsync(
                    connection,
                    "UPDATE mappings SET review = $p0, reviewed_by = $p1, reviewed_at = $p2, review_comment = $p3, polarity = $p4 WHERE id = $p5",
                    cancellationToken,
                    tx,
                    ReviewText(state), actor, Now(), comment, PolarityText(after.Polarity), mappingId).ConfigureAwait(false);
                await AuditAsync(connection, tx, actor, "mapping.review", mappingId, before, new { after.Review, after.Polarity, after.ControlId, after.PassageId, comment }, cancellationToken).ConfigureAwait(false);
                return after;
            },
            cancellationToken);

    public Task<MappingRecord?> AddManualMappingAsync(string passageId, string controlId, string rationale, string actor, MappingPolarity polarity, CancellationToken cancellationToken = default) =>
        WriteAsync<MappingRecord>(
            async (connection, tx) =>
            {
                var exists = await ScalarAsync(connection, "SELECT COUNT(*) FROM passages WHERE id = $p0", cancellationToken, tx, passageId).ConfigureAwait(false);
                if (Convert.ToInt64(exists, CultureInfo.InvariantCulture) == 0)
                {
                    return null;
                }

                // The same manual mapping again (passage, entry, polarity, not rejected) is the one already there.
                await using (var same = Command(connection, $"SELECT {MappingColumns} FROM mappings m WHERE m.passage_id = $p0 AND m.control_id = $p1 AND m.method = $p2 AND m.polarity = $p3 AND m.review <> 'rejected' ORDER BY m.id LIMIT 1", passageId, controlId, MappingMethods.Manual, PolarityText(polarity)))
                {
                    same.Transaction = tx;
                    await using var reader = await same.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                    if (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                    {
                        return ReadMapping(reader, 0);
                    }
                }

                var mapping = MappingRecord.Manual(Guid.CreateVersion7().ToString("N"), passageId, controlId, rationale, polarity);
                await ExecuteAsync(
                    connection,
                    "INSERT INTO mappings (id, passage_id, control_id, score, method, rationale, review, reviewed_by, reviewed_at, polarity) VALUES ($p0, $p1, $p2, $p3, $p4, $p5, $p6, $p7, $p8, $p9)",
                    cancellationToken,
                    tx,
                    mapping.Id, passageId, controlId, mapping.Score, mapping.Method, rationale, ReviewText(mapping.Review), actor, Now(), PolarityText(mapping.Polarity)).ConfigureAwait(false);
                await AuditAsync(connection, tx, actor, "mapping.add", mapping.Id, null, mapping, cancellationToken).ConfigureAwait(false);
                return mapping;
            },
            cancellationToken);

    public async Task<IReadOnlyList<ReviewDecision>> ListReviewDecisionsAsync(CancellationToken cancellationToken = default)
    {
        await InitializeAsync(cancellationToken).ConfigureAwait(false);
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var cmd = Command(
            connection,
            "SELECT p.id, d.name, p.page, p.headings, p.text, m.control_id, m.review, m.method, p.candidates, m.polarity FROM mappings m " +
            "JOIN passages p ON p.id = m.passage_id JOIN documents d ON d.id = p.document_id " +
            "WHERE (m.review <> 'unreviewed' OR m.method = 'manual') ORDER BY m.rowid");
        await using var reader = await cmd.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var result = new List<ReviewDecision>();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            result.Add(new ReviewDecision(
                reader.GetString(0),
                reader.GetString(1),
                reader.GetInt32(2),
                JsonSerializer.Deserialize<string[]>(reader.GetString(3)) ?? [],
                reader.GetString(4),
                reader.GetString(5),
                reader.GetString(6) != ReviewText(ReviewState.Rejected))
            {
                Manual = reader.GetString(7) == MappingMethods.Manual,
                Candidates = reader.IsDBNull(8) ? null : PassageCandidates.Parse(reader.GetString(8)),
                Polarity = ParsePolarity(reader.GetString(9)),
            });
        }

        return result;
    }

    public async Task<int> ReplaceSuggestionsAsync(IReadOnlyList<(string PassageId, IReadOnlyList<MappingSuggestion> Suggestions)> suggestions, string profileVersion, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(suggestions);
        var changed = await WriteAsync<object>(
            async (connection, tx) =>
            {
                var count = 0;
                foreach (var (passageId, list) in suggestions)
                {
                    // Open = unreviewed pipeline suggestions (replaced); decided = reviewed or manual (kept, and their entries not suggested again).
                    var open = new Dictionary<string, string>(StringComparer.Ordinal);
                    var decided = new HashSet<string>(StringComparer.Ordinal);
                    await using (var cmd = Command(connection, "SELECT id, control_id, review = 'unreviewed' AND method <> 'manual' FROM mappings WHERE passage_id = $p0", passageId))
                    {
                        cmd.Transaction = tx;
                        await using var reader = await cmd.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                        {
                            if (reader.GetBoolean(2))
                            {
                                open.TryAdd(reader.GetString(1), reader.GetString(0));
                            }
                            else
                            {
                                decided.Add(reader.GetString(1));
                            }
                        }
                    }

                    if (open.Count == 0 && decided.Count == 0 && await ScalarAsync(connection, "SELECT COUNT(*) FROM passages WHERE id = $p0", cancellationToken, tx, passageId).ConfigureAwait(false) is 0L)
                    {
                        continue; // the passage is gone
                    }

                    foreach (var s in list.Where(s => !decided.Contains(s.ControlId)))
                    {
                        // A suggestion that stays keeps its id (a reviewer may be looking at it); a new one gets a new id.
                        var exists = open.Remove(s.ControlId, out var id);
                        var m = MappingRecord.From(id ?? Guid.CreateVersion7().ToString("N"), passageId, s, profileVersion);
                        await ExecuteAsync(
                            connection,
                            exists
                                ? "UPDATE mappings SET score = $p3, method = $p4, rationale = $p5, model = $p6, prompt_version = $p7, profile_version = $p8, polarity = $p9 WHERE id = $p0 AND passage_id = $p1 AND control_id = $p2"
                                : "INSERT INTO mappings (id, passage_id, control_id, score, method, rationale, model, prompt_version, profile_version, review, polarity) VALUES ($p0, $p1, $p2, $p3, $p4, $p5, $p6, $p7, $p8, 'unreviewed', $p9)",
                            cancellationToken,
                            tx,
                            m.Id, passageId, m.ControlId, m.Score, m.Method, m.Rationale, m.Model, m.PromptVersion, m.ProfileVersion, PolarityText(m.Polarity)).ConfigureAwait(false);
                    }

                    foreach (var id in open.Values)
                    {
                        await ExecuteAsync(connection, "DELETE FROM mappings WHERE id = $p0", cancellationToken, tx, id).ConfigureAwait(false);
                    }

                    count++;
                }

                return count;
            },
            cancellationToken).ConfigureAwait(false);
        return (int)changed!;
    }

    public async Task<IReadOnlyList<ApplicabilityDecision>> ListApplicabilityAsync(CancellationToken cancellationToken = default)
    {
        await InitializeAsync(cancellationToken).ConfigureAwait(false);
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var cmd = Command(connection, "SELECT control_id, applicable, justification, actor, at FROM applicability ORDER BY control_id");
        await using var reader = await cmd.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var result = new List<ApplicabilityDecision>();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            result.Add(new ApplicabilityDecision(reader.GetString(0), reader.GetBoolean(1), reader.GetString(2), reader.GetString(3), DateTimeOffset.Parse(reader.GetString(4), CultureInfo.InvariantCulture)));
        }

        return result;
    }

    public async Task<ApplicabilityDecision> SetApplicabilityAsync(string controlId, bool applicable, string justification, string actor, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(controlId);
        ArgumentNullException.ThrowIfNull(justification);
        var decision = new ApplicabilityDecision(controlId, applicable, justification, actor, DateTimeOffset.UtcNow);
        return (await WriteAsync<ApplicabilityDecision>(
            async (connection, tx) =>
            {
                ApplicabilityDecision? before = null;
                await using (var cmd = Command(connection, "SELECT control_id, applicable, justification, actor, at FROM applicability WHERE control_id = $p0", controlId))
                {
                    cmd.Transaction = tx;
                    await using var reader = await cmd.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                    if (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                    {
                        before = new ApplicabilityDecision(reader.GetString(0), reader.GetBoolean(1), reader.GetString(2), reader.GetString(3), DateTimeOffset.Parse(reader.GetString(4), CultureInfo.InvariantCulture));
                    }
                }

                await ExecuteAsync(
                    connection,
                    "INSERT INTO applicability (control_id, applicable, justification, actor, at) VALUES ($p0, $p1, $p2, $p3, $p4) " +
                    "ON CONFLICT (control_id) DO UPDATE SET applicable = excluded.applicable, justification = excluded.justification, actor = excluded.actor, at = excluded.at",
                    cancellationToken,
                    tx,
                    controlId, applicable, justification, actor, decision.At.ToString("O", CultureInfo.InvariantCulture)).ConfigureAwait(false);
                await AuditAsync(connection, tx, actor, "control.applicability", controlId, before is null ? null : new { before.Applicable, before.Justification }, new { applicable, justification }, cancellationToken).ConfigureAwait(false);
                return decision;
            },
            cancellationToken).ConfigureAwait(false))!;
    }

    public async Task<DocumentRecord?> SetEffectiveDateAsync(string documentId, DateOnly? effectiveDate, string actor, CancellationToken cancellationToken = default)
    {
        var before = await GetDocumentAsync(documentId, cancellationToken).ConfigureAwait(false);
        if (before is null)
        {
            return null;
        }

        return await WriteAsync<DocumentRecord>(
            async (connection, tx) =>
            {
                var text = effectiveDate?.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
                await ExecuteAsync(connection, "UPDATE documents SET effective_date = $p0 WHERE id = $p1", cancellationToken, tx, text, documentId).ConfigureAwait(false);
                await AuditAsync(connection, tx, actor, "document.effective-date", documentId, new { effectiveDate = before.EffectiveDate }, new { effectiveDate }, cancellationToken).ConfigureAwait(false);
                return before with { EffectiveDate = effectiveDate };
            },
            cancellationToken).ConfigureAwait(false);
    }

    public async Task<IReadOnlyList<AuditEntry>> ListAuditAsync(long afterId = 0, int limit = 100, CancellationToken cancellationToken = default)
    {
        await InitializeAsync(cancellationToken).ConfigureAwait(false);
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var cmd = Command(connection, "SELECT id, at, actor, action, target, before, after FROM audit_log WHERE id > $p0 ORDER BY id LIMIT $p1", afterId, Math.Clamp(limit, 1, 1000));
        await using var reader = await cmd.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var result = new List<AuditEntry>();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            result.Add(new AuditEntry(
                reader.GetInt64(0),
                DateTimeOffset.Parse(reader.GetString(1), CultureInfo.InvariantCulture),
                reader.GetString(2),
                reader.GetString(3),
                reader.GetString(4),
                reader.IsDBNull(5) ? null : reader.GetString(5),
                reader.IsDBNull(6) ? null : reader.GetString(6)));
        }

        return result;
    }

    public Task AppendAuditAsync(string actor, string action, string target, object? after, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(actor);
        ArgumentException.ThrowIfNullOrWhiteSpace(action);
        ArgumentNullException.ThrowIfNull(target);
        return WriteAsync<object>(
            async (connection, tx) =>
            {
                await AuditAsync(connection, tx, actor, action, target, null, after, cancellationToken).ConfigureAwait(false);
                return target;
            },
            cancellationToken);
    }

    public async Task<(ApiKeyRecord Record, string Key)> CreateApiKeyAsync(ApiRole role, string actor, CancellationToken cancellationToken = default)
    {
        var key = ApiKeys.NewKey();
        var record = new ApiKeyRecord(Guid.CreateVersion7().ToString("N")[..16], role, DateTimeOffset.UtcNow);
        await WriteAsync<ApiKeyRecord>(
            async (connection, tx) =>
            {
                await ExecuteAsync(
                    connection,
                    "INSERT INTO api_keys (id, role, key_hash, created_at) VALUES ($p0, $p1, $p2, $p3)",
                    cancellationToken,
                    tx,
                    record.Id, role.ToString().ToLowerInvariant(), ApiKeys.Hash(key), record.CreatedAt.ToString("O", CultureInfo.InvariantCulture)).ConfigureAwait(false);
                await AuditAsync(connection, tx, actor, "apikey.create", record.Id, null, new { record.Id, record.Role }, cancellationToken).ConfigureAwait(false);
                return record;
            },
            cancellationToken).ConfigureAwait(false);
        return (record, key);
    }

    /// <summary>
    /// Revokes the key with this id: its row (the hash) is deleted, so the key authenticates no more (401), and the
    /// revocation is audited (<c>apikey.revoke</c>, the key's id and role before). Null when there is no such key.
    /// </summary>
    public Task<ApiKeyRecord?> RevokeApiKeyAsync(string id, string actor, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(id);
        ArgumentException.ThrowIfNullOrWhiteSpace(actor);
        return WriteAsync<ApiKeyRecord>(
            async (connection, tx) =>
            {
                ApiKeyRecord record;
                await using (var cmd = Command(connection, "SELECT id, role, created_at FROM api_keys WHERE id = $p0", id))
                {
                    cmd.Transaction = tx;
                    await using var reader = await cmd.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                    if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                    {
                        return null;
                    }

                    record = new ApiKeyRecord(reader.GetString(0), Enum.Parse<ApiRole>(reader.GetString(1), ignoreCase: true), DateTimeOffset.Parse(reader.GetString(2), CultureInfo.InvariantCulture));
                }

                await ExecuteAsync(connection, "DELETE FROM api_keys WHERE id = $p0", cancellationToken, tx, id).ConfigureAwait(false);
                await AuditAsync(connection, tx, actor, "apikey.revoke", record.Id, new { record.Id, record.Role }, null, cancellationToken).ConfigureAwait(false);
                return record;
            },
            cancellationToken);
    }

    public async Task<ApiKeyRecord?> FindApiKeyAsync(string keySha256, CancellationToken cancellationToken = default)
    {
        await InitializeAsync(cancellationToken).ConfigureAwait(false);
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var cmd = Command(connection, "SELECT id, role, created_at FROM api_keys WHERE key_hash = $p0", keySha256);
        await using var reader = await cmd.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            return null;
        }

        return new ApiKeyRecord(reader.GetString(0), Enum.Parse<ApiRole>(reader.GetString(1), ignoreCase: true), DateTimeOffset.Parse(reader.GetString(2), CultureInfo.InvariantCulture));
    }


    private static string Now() => DateTimeOffset.UtcNow.ToString("O", CultureInfo.InvariantCulture);

    private static async Task<MappingRecord?> ReadMappingAsync(SqliteConnection connection, SqliteTransaction? tx, string id, CancellationToken cancellationToken)
    {
        await using var cmd = Command(connection, $"SELECT {MappingColumns} FROM mappings m WHERE m.id = $p0", id);
        cmd.Transaction = tx;
        await using var reader = await cmd.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        return await reader.ReadAsync(cancellationToken).ConfigureAwait(false) ? ReadMapping(reader, 0) : null;
    }

    private static Task AuditAsync(SqliteConnection connection, SqliteTransaction tx, string actor, string action, string target, object? before, object? after, CancellationToken cancellationToken) =>
        ExecuteAsync(
            connection,
            "INSERT INTO audit_log (at, actor, action, target, before, after) VALUES ($p0, $p1, $p2, $p3, $p4, $p5)",
            cancellationToken,
            tx,
            Now(), actor, action, target,
            before is null ? null : JsonSerializer.Serialize(before, AuditJson),
            after is null ? null : JsonSerializer.Serialize(after, AuditJson));

    private async Task<T?> WriteAsync<T>(Func<SqliteConnection, SqliteTransaction, Task<T?>> work, CancellationToken cancellationToken)
        where T : class
    {
        await InitializeAsync(cancellationToken).ConfigureAwait(false);
        await _writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
            await using var tx = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            var result = await work(connection, tx).ConfigureAwait(false);
            await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
            return result;
        }
        finally
        {
            _writeLock.Release();
        }
    }
}
