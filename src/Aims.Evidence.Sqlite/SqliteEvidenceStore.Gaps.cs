using Aims.Evidence.Core.Storage;
using Microsoft.Data.Sqlite;

namespace Aims.Evidence.Sqlite;

/// <summary>
/// The gap report's read model (schema v6): <c>gap_evidence</c> holds, per catalog entry and document, the aggregates
/// of the non-rejected mappings (distinct passages, best score, accepted count, best mapping), maintained by triggers
/// on <c>mappings</c> inside every write's transaction. <c>gap_containers</c> records which child controls also count
/// for a container entry; when the caller's catalog says otherwise, the table is rebuilt once.
/// </summary>
public sealed partial class SqliteEvidenceStore : IGapEvidenceSource
{
    private readonly SemaphoreSlim _gapLock = new(1, 1);
    private GapCache? _gapCache;

    /// <summary>
    /// Reads the current documents and the aggregates in one snapshot. The aggregates are cached in this instance and
    /// refreshed with only the rows whose version grew since the last call (every write stamps the rows it changes),
    /// so a report after a one-document write reads that document's rows, not the whole table.
    /// </summary>
    public async Task<GapEvidence> GetGapEvidenceAsync(IReadOnlyDictionary<string, string> containerOf, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(containerOf);
        await InitializeAsync(cancellationToken).ConfigureAwait(false);
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        if (!await ContainersMatchAsync(connection, null, containerOf, cancellationToken).ConfigureAwait(false))
        {
            await RebuildGapEvidenceAsync(containerOf, cancellationToken).ConfigureAwait(false);
        }

        await _gapLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            // One read transaction: versions, documents, aggregates and best links come from the same snapshot (WAL).
            await using var tx = connection.BeginTransaction(deferred: true);
            var generation = Convert.ToInt64(await ScalarAsync(connection, "SELECT generation FROM gap_state WHERE id = 1", cancellationToken, tx).ConfigureAwait(false), System.Globalization.CultureInfo.InvariantCulture);
            var version = Convert.ToInt64(await ScalarAsync(connection, "SELECT version FROM store_version WHERE id = 1", cancellationToken, tx).ConfigureAwait(false), System.Globalization.CultureInfo.InvariantCulture);
            var documents = new List<DocumentRecord>();
            await using (var cmd = Command(connection, $"SELECT {DocumentColumns} FROM documents d WHERE d.is_current = 1 ORDER BY d.name, d.version DESC"))
            {
                cmd.Transaction = tx;
                await using var reader = await cmd.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    documents.Add(ReadDocument(reader, 0));
                }
            }

            var cache = _gapCache;
            if (cache is null || cache.Generation != generation)
            {
                cache = new GapCache(generation, new Dictionary<(string, string), GapRow>());
                await ReadGapRowsAsync(connection, tx, cache, "WHERE passages > 0", null, cancellationToken).ConfigureAwait(false);
            }
            else if (cache.Version != version)
            {
                await ReadGapRowsAsync(connection, tx, cache, "WHERE version > $p0", cache.Version, cancellationToken).ConfigureAwait(false);
            }

            cache.Version = version;
            _gapCache = cache;

            var current = documents.Where(d => d.Status == DocumentStatus.Processed).Select(d => d.Id).ToHashSet(StringComparer.Ordinal);
            var rows = new List<EntryDocumentEvidence>(cache.Rows.Count);
            var best = new Dictionary<string, GapRow>(StringComparer.Ordinal);
            foreach (var row in cache.Rows.Values)
            {
                if (!current.Contains(row.DocumentId))
                {
                    continue;
                }

                rows.Add(row.Evidence);
                if (!best.TryGetValue(row.Evidence.EntryId, out var b) || Ranks(row, b))
                {
                    best[row.Evidence.EntryId] = row;
                }
            }

            var links = new Dictionary<string, EvidenceLink>(StringComparer.Ordinal);
            if (best.Count > 0)
            {
                var ids = best.Values.Select(b => b.BestMappingId).Distinct(StringComparer.Ordinal).ToArray();
                var inList = string.Join(", ", ids.Select((_, i) => "$p" + i.ToString(System.Globalization.CultureInfo.InvariantCulture)));
                var byMapping = new Dictionary<string, EvidenceLink>(StringComparer.Ordinal);
                await using (var cmd = Command(
                    connection,
                    $"SELECT {DocumentColumns}, {PassageColumns}, {MappingColumns} FROM mappings m JOIN passages p ON p.id = m.passage_id JOIN documents d ON d.id = p.document_id WHERE m.id IN ({inList})",
                    ids))
                {
                    cmd.Transaction = tx;
                    await using var reader = await cmd.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                    while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                    {
                        var link = new EvidenceLink(ReadDocument(reader, 0), ReadPassage(reader, DocumentColumnCount), ReadMapping(reader, DocumentColumnCount + PassageColumnCount));
                        byMapping[link.Mapping.Id] = link;
                    }
                }

                foreach (var (entry, b) in best)
                {
                    links[entry] = byMapping[b.BestMappingId];
                }
            }

            // Findings (few) are read as links: they never enter the aggregates, the analysis decides what they mean.
            var findings = await ReadLinksAsync(connection, tx, " AND m.polarity = 'finding'", [], cancellationToken).ConfigureAwait(false);
            await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
            return new GapEvidence(documents, rows, links) { Findings = findings };
        }
        finally
        {
            _gapLock.Release();
        }
    }

    private static async Task ReadGapRowsAsync(SqliteConnection connection, SqliteTransaction tx, GapCache cache, string where, long? since, CancellationToken cancellationToken)
    {
        await using var cmd = Command(connection, "SELECT entry_id, document_id, passages, max_score, accepted, best_mapping_id, best_accepted, best_score FROM gap_evidence " + where);
        if (since is { } v)
        {
            cmd.Parameters.AddWithValue("$p0", v);
        }

        cmd.Transaction = tx;
        await using var reader = await cmd.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            var key = (reader.GetString(0), reader.GetString(1));
            var passages = reader.GetInt32(2);
            if (passages == 0)
            {
                cache.Rows.Remove(key); // its evidence is gone (rejected, or the mappings were deleted)
                continue;
            }

            cache.Rows[key] = new GapRow(
                new EntryDocumentEvidence(key.Item1, key.Item2, passages, reader.GetDouble(3), reader.GetInt64(4) > 0),
                reader.GetString(5),
                reader.GetInt64(6) != 0,
                reader.GetDouble(7));
        }
    }

    private sealed record GapRow(EntryDocumentEvidence Evidence, string BestMappingId, bool BestAccepted, double BestScore)
    {
        public string DocumentId => Evidence.DocumentId;
    }

    private sealed class GapCache(long generation, Dictionary<(string, string), GapRow> rows)
    {
        public long Generation { get; } = generation;

        public long Version { get; set; } = -1;

        public Dictionary<(string, string), GapRow> Rows { get; } = rows;
    }

    /// <summary>Accepted first, then the higher score, then the lower mapping id (ordinal), as the report's citation rule.</summary>
    private static bool Ranks(GapRow a, GapRow b) =>
        a.BestAccepted != b.BestAccepted ? a.BestAccepted : a.BestScore != b.BestScore ? a.BestScore > b.BestScore : string.CompareOrdinal(a.BestMappingId, b.BestMappingId) < 0;

    private static async Task<bool> ContainersMatchAsync(SqliteConnection connection, SqliteTransaction? tx, IReadOnlyDictionary<string, string> containerOf, CancellationToken cancellationToken)
    {
        var stored = new Dictionary<string, string>(StringComparer.Ordinal);
        await using var cmd = Command(connection, "SELECT control_id, container_id FROM gap_containers");
        cmd.Transaction = tx;
        await using var reader = await cmd.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            stored[reader.GetString(0)] = reader.GetString(1);
        }

        return stored.Count == containerOf.Count && containerOf.All(kv => stored.TryGetValue(kv.Key, out var c) && string.Equals(c, kv.Value, StringComparison.Ordinal));
    }

    /// <summary>Replaces the container map and recomputes gap_evidence from every mapping (once per catalog change).</summary>
    private async Task RebuildGapEvidenceAsync(IReadOnlyDictionary<string, string> containerOf, CancellationToken cancellationToken)
    {
        await _writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
            await using var tx = (SqliteTransaction)await connection.BeginTransactionAsync(System.Data.IsolationLevel.Serializable, cancellationToken).ConfigureAwait(false);
            if (await ContainersMatchAsync(connection, tx, containerOf, cancellationToken).ConfigureAwait(false))
            {
                return; // another process or caller rebuilt it meanwhile
            }

            await ExecuteAsync(connection, "DELETE FROM gap_containers", cancellationToken, tx).ConfigureAwait(false);
            foreach (var (control, container) in containerOf)
            {
                await ExecuteAsync(connection, "INSERT INTO gap_containers (control_id, container_id) VALUES ($p0, $p1)", cancellationToken, tx, control, container).ConfigureAwait(false);
            }

            await ExecuteAsync(connection, "DELETE FROM gap_evidence", cancellationToken, tx).ConfigureAwait(false);
            await ExecuteAsync(connection, SqliteSchema.GapEvidenceInsertAll, cancellationToken, tx).ConfigureAwait(false);
            await ExecuteAsync(connection, "UPDATE gap_state SET generation = generation + 1 WHERE id = 1", cancellationToken, tx).ConfigureAwait(false); // readers drop their caches
            await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _writeLock.Release();
        }
    }
}
