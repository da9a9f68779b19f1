using System.Globalization;
using Aims.Evidence.Core.Storage;

namespace Aims.Evidence.Sqlite;

/// <summary>Ingestion attempts that started and never finished (schema v10).</summary>
public sealed partial class SqliteEvidenceStore : IIngestionAttemptStore
{
    public async Task<int> BeginAttemptAsync(string sha256, string name, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(sha256);
        ArgumentNullException.ThrowIfNull(name);
        var earlier = await WriteAsync<string>(
            async (connection, tx) =>
            {
                var before = await ScalarAsync(connection, "SELECT attempts FROM ingest_attempts WHERE sha256 = $p0", cancellationToken, tx, sha256).ConfigureAwait(false);
                await ExecuteAsync(
                    connection,
                    "INSERT INTO ingest_attempts (sha256, name, attempts, started_at) VALUES ($p0, $p1, 1, $p2) " +
                    "ON CONFLICT (sha256) DO UPDATE SET name = excluded.name, attempts = attempts + 1, started_at = excluded.started_at",
                    cancellationToken,
                    tx,
                    sha256, name, DateTimeOffset.UtcNow.ToString("O", CultureInfo.InvariantCulture)).ConfigureAwait(false);
                return before is long n ? n.ToString(CultureInfo.InvariantCulture) : "0";
            },
            cancellationToken).ConfigureAwait(false);
        return int.Parse(earlier!, CultureInfo.InvariantCulture);
    }

    public async Task EndAttemptAsync(string sha256, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(sha256);
        await WriteAsync<string>(
            async (connection, tx) =>
            {
                await ExecuteAsync(connection, "DELETE FROM ingest_attempts WHERE sha256 = $p0", cancellationToken, tx, sha256).ConfigureAwait(false);
                return null;
            },
            cancellationToken).ConfigureAwait(false);
    }
}
