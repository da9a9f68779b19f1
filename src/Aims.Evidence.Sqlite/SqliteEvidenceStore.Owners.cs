using System.Globalization;
using System.Text.Json;
using Aims.Evidence.Core.Storage;
using Microsoft.Data.Sqlite;

namespace Aims.Evidence.Sqlite;

/// <summary>Entry owners and the days a digest was sent (schema v9).</summary>
public sealed partial class SqliteEvidenceStore : IOwnerStore, IDigestStore
{
    private const string OwnerColumns = "control_id, owner, due_date, actor, at";

    public async Task<IReadOnlyList<EntryOwner>> ListOwnersAsync(CancellationToken cancellationToken = default)
    {
        await InitializeAsync(cancellationToken).ConfigureAwait(false);
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        return await ReadOwnersAsync(Command(connection, $"SELECT {OwnerColumns} FROM owners ORDER BY control_id"), cancellationToken).ConfigureAwait(false);
    }

    public async Task<EntryOwner> SetOwnerAsync(string controlId, string owner, DateOnly? dueDate, string actor, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(controlId);
        ArgumentException.ThrowIfNullOrWhiteSpace(owner);
        var record = new EntryOwner(controlId, owner, dueDate, actor, DateTimeOffset.UtcNow);
        return (await WriteAsync<EntryOwner>(
            async (connection, tx) =>
            {
                var before = await OwnerAsync(connection, tx, controlId, cancellationToken).ConfigureAwait(false);
                await ExecuteAsync(
                    connection,
                    $"INSERT INTO owners ({OwnerColumns}) VALUES ($p0, $p1, $p2, $p3, $p4) " +
                    "ON CONFLICT (control_id) DO UPDATE SET owner = excluded.owner, due_date = excluded.due_date, actor = excluded.actor, at = excluded.at",
                    cancellationToken,
                    tx,
                    controlId, owner, dueDate?.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), actor, record.At.ToString("O", CultureInfo.InvariantCulture)).ConfigureAwait(false);
                await AuditAsync(connection, tx, actor, "control.owner", controlId, before is null ? null : new { before.Owner, before.DueDate }, new { owner, dueDate }, cancellationToken).ConfigureAwait(false);
                return record;
            },
            cancellationToken).ConfigureAwait(false))!;
    }

    public async Task<bool> ClearOwnerAsync(string controlId, string actor, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(controlId);
        var cleared = await WriteAsync<EntryOwner>(
            async (connection, tx) =>
            {
                var before = await OwnerAsync(connection, tx, controlId, cancellationToken).ConfigureAwait(false);
                if (before is not null)
                {
                    await ExecuteAsync(connection, "DELETE FROM owners WHERE control_id = $p0", cancellationToken, tx, controlId).ConfigureAwait(false);
                    await AuditAsync(connection, tx, actor, "control.owner", controlId, new { before.Owner, before.DueDate }, null, cancellationToken).ConfigureAwait(false);
                }

                return before;
            },
            cancellationToken).ConfigureAwait(false);
        return cleared is not null;
    }

    public async Task<bool> TryClaimDigestAsync(DateOnly day, IReadOnlyList<string> gaps, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(gaps);
        var claimed = await WriteAsync<string>(
            async (connection, tx) =>
            {
                var rows = await ScalarAsync(
                    connection,
                    "INSERT INTO digests (day, at, gaps) VALUES ($p0, $p1, $p2) ON CONFLICT (day) DO NOTHING; SELECT changes()",
                    cancellationToken,
                    tx,
                    Day(day), DateTimeOffset.UtcNow.ToString("O", CultureInfo.InvariantCulture), JsonSerializer.Serialize(gaps)).ConfigureAwait(false);
                return (long)rows! == 1 ? Day(day) : null;
            },
            cancellationToken).ConfigureAwait(false);
        return claimed is not null;
    }

    public async Task ReleaseDigestAsync(DateOnly day, CancellationToken cancellationToken = default) =>
        await WriteAsync<string>(
            async (connection, tx) =>
            {
                await ExecuteAsync(connection, "DELETE FROM digests WHERE day = $p0", cancellationToken, tx, Day(day)).ConfigureAwait(false);
                return null;
            },
            cancellationToken).ConfigureAwait(false);

    public async Task<DigestRecord?> GetLastDigestBeforeAsync(DateOnly day, CancellationToken cancellationToken = default)
    {
        await InitializeAsync(cancellationToken).ConfigureAwait(false);
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var cmd = Command(connection, "SELECT day, at, gaps FROM digests WHERE day < $p0 ORDER BY day DESC LIMIT 1", Day(day));
        await using var reader = await cmd.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        return await reader.ReadAsync(cancellationToken).ConfigureAwait(false)
            ? new DigestRecord(
                DateOnly.ParseExact(reader.GetString(0), "yyyy-MM-dd", CultureInfo.InvariantCulture),
                DateTimeOffset.Parse(reader.GetString(1), CultureInfo.InvariantCulture),
                JsonSerializer.Deserialize<string[]>(reader.GetString(2)) ?? [])
            : null;
    }

    private static string Day(DateOnly day) => day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    private static async Task<EntryOwner?> OwnerAsync(SqliteConnection connection, SqliteTransaction tx, string controlId, CancellationToken cancellationToken)
    {
        var cmd = Command(connection, $"SELECT {OwnerColumns} FROM owners WHERE control_id = $p0", controlId);
        cmd.Transaction = tx;
        return (await ReadOwnersAsync(cmd, cancellationToken).ConfigureAwait(false)).SingleOrDefault();
    }

    /// <summary>Runs the query and reads its owners (disposing the command).</summary>
    private static async Task<IReadOnlyList<EntryOwner>> ReadOwnersAsync(SqliteCommand cmd, CancellationToken cancellationToken)
    {
        await using (cmd)
        {
            await using var reader = await cmd.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            var result = new List<EntryOwner>();
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                result.Add(new EntryOwner(
                    reader.GetString(0),
                    reader.GetString(1),
                    reader.IsDBNull(2) ? null : DateOnly.ParseExact(reader.GetString(2), "yyyy-MM-dd", CultureInfo.InvariantCulture),
                    reader.GetString(3),
                    DateTimeOffset.Parse(reader.GetString(4), CultureInfo.InvariantCulture)));
            }

            return result;
        }
    }
}
