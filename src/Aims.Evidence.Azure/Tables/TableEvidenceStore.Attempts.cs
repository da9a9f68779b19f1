using Aims.Evidence.Core.Storage;
using Azure;
using Azure.Data.Tables;

namespace Aims.Evidence.Azure.Tables;

/// <summary>
/// Ingestion attempts that started and never finished, in <c>{prefix}Attempts</c>: PartitionKey <c>attempt</c>, RowKey
/// the content's SHA-256; the count is raised under the row's ETag, so instances never lose an increment.
/// </summary>
public sealed partial class TableEvidenceStore : IIngestionAttemptStore
{
    private const string AttemptPartition = "attempt";

    public async Task<int> BeginAttemptAsync(string sha256, string name, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(sha256);
        ArgumentNullException.ThrowIfNull(name);
        while (true)
        {
            var row = await GetEntityOrNullAsync(_attempts, AttemptPartition, sha256, cancellationToken).ConfigureAwait(false);
            var earlier = row?.GetInt32("Attempts") ?? 0;
            var entity = new TableEntity(AttemptPartition, sha256) { ["Name"] = name, ["Attempts"] = earlier + 1, ["StartedAt"] = DateTimeOffset.UtcNow };
            try
            {
                if (row is null)
                {
                    await _attempts.AddEntityAsync(entity, cancellationToken).ConfigureAwait(false);
                }
                else
                {
                    await _attempts.UpdateEntityAsync(entity, row.ETag, TableUpdateMode.Replace, cancellationToken).ConfigureAwait(false);
                }

                return earlier;
            }
            catch (RequestFailedException ex) when (ex.Status is 409 or 412)
            {
                // Another instance changed the row between our read and write: read it again.
            }
        }
    }

    public async Task EndAttemptAsync(string sha256, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(sha256);
        try
        {
            await _attempts.DeleteEntityAsync(AttemptPartition, sha256, ETag.All, cancellationToken).ConfigureAwait(false);
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            // Nothing recorded: nothing to end.
        }
    }
}
