using Aims.Evidence.Core.Storage;
using Microsoft.Data.Sqlite;

namespace Aims.Evidence.Local.Storage;

/// <summary>
/// The gap report's read model (schema v5): <c>gap_evidence</c> holds, per catalog entry and document, the aggregates
/// of the non-rejected mappings (distinct passages, best score, accepted count, best mapping), maintained by triggers
/// on <c>mappings</c> inside every write's transaction. <c>gap_containers</c> records which child controls also count
/// for a container entry; when the caller's catalog says otherwise, the table is rebuilt once.
/// </summary>
public sealed partial class SqliteEvidenceStore : IGapEvidenceSource
{
    public async Task<GapEvidence> GetGapEvidenceAsync(IReadOnlyDictionary<string, string> containerOf, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(containerOf);
        await InitializeAsync(cancellationToken).ConfigureAwait(false);
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        if (!await ContainersMatchAsync(connection, null, containerOf, cancellationToken).ConfigureAwait(false))
        {
            await RebuildGapEvidenceAsync(containerOf, cancellationToken).ConfigureAwait(false);
        }

        // One read transaction: documents, aggregates and best links come from the same snapshot (WAL).
        await using var tx = connection.BeginTransaction(deferred: true);
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

        var rows = new List<EntryDocumentEvidence>();
        var best = new Dictionary<string, (bool Accepted, double Score, string MappingId)>(StringComparer.Ordinal);
        await using (var cmd = Command(
            connection,
            "SELECT a.entry_id, a.document_id, a.passages, a.max_score, a.accepted, a.best_mapping_id, a.best_accepted, a.best_score " +
            "FROM gap_evidence a JOIN documents d ON d.id = a.document_id WHERE d.is_current = 1 AND d.status = 'processed'"))
        {
            cmd.Transaction = tx;
            await using var reader = await cmd.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                var entry = reader.GetString(0);
                rows.Add(new EntryDocumentEvidence(entry, reader.GetString(1), reader.GetInt32(2), reader.GetDouble(3), reader.GetInt64(4) > 0));
                var candidate = (Accepted: reader.GetInt64(6) != 0, Score: reader.GetDouble(7), MappingId: reader.GetString(5));
                if (!best.TryGetValue(entry, out var current) || Ranks(candidate, current))
                {
                    best[entry] = candidate;
                }
            }
        }

        var links = new Dictionary<string, EvidenceLink>(StringComparer.Ordinal);
        if (best.Count > 0)
        {
            var ids = best.Values.Select(b => b.MappingId).Distinct(StringComparer.Ordinal).ToArray();
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
                    var link = new EvidenceLink(ReadDocument(reader, 0), ReadPassage(reader, 16), ReadMapping(reader, 25));
                    byMapping[link.Mapping.Id] = link;
                }
            }

            foreach (var (entry, b) in best)
            {
                links[entry] = byMapping[b.MappingId];
            }
        }

        await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
        return new GapEvidence(documents, rows, links);
    }

    /// <summary>Accepted first, then the higher score, then the lower mapping id (ordinal), as the report's citation rule.</summary>
    private static bool Ranks((bool Accepted, double Score, string MappingId) a, (bool Accepted, double Score, string MappingId) b) =>
        a.Accepted != b.Accepted ? a.Accepted : a.Score != b.Score ? a.Score > b.Score : string.CompareOrdinal(a.MappingId, b.MappingId) < 0;

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
            await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _writeLock.Release();
        }
    }
}
