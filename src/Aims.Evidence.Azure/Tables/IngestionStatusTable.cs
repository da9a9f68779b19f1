using Azure;
using Azure.Data.Tables;

namespace Aims.Evidence.Azure.Tables;

/// <summary>Lifecycle of one inbox blob as the Functions host sees it.</summary>
public static class IngestionStates
{
    public const string Processing = "processing";
    public const string Retrying = "retrying";
    public const string Processed = "processed";
    public const string Failed = "failed";
}

/// <summary>The status row of one inbox blob.</summary>
public sealed record IngestionStatus(
    string Name,
    string State,
    int Attempts,
    string? Sha256,
    string? Outcome,
    string? LastError,
    DateTimeOffset UpdatedAt);

/// <summary>What the host should do with a delivery of a blob.</summary>
public enum AttemptDecision
{
    /// <summary>Run the ingestion (the attempt was counted).</summary>
    Proceed,

    /// <summary>These exact bytes were already processed: a duplicate event.</summary>
    AlreadyProcessed,

    /// <summary>These exact bytes already failed for good: do not try again.</summary>
    GaveUp,
}

/// <summary>
/// Per-document ingestion status in Table Storage (<c>{prefix}IngestStatus</c>, PartitionKey <c>inbox</c>,
/// RowKey = encoded blob name). Attempts are counted per content hash with optimistic concurrency, so
/// concurrent deliveries of one blob never lose a count; new bytes under the same name start at zero.
/// </summary>
public sealed class IngestionStatusTable
{
    private const string Partition = "inbox";

    private readonly TableClient _table;
    private readonly TimeProvider _time;

    public IngestionStatusTable(TableServiceClient service, string tablePrefix = "aims", TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(service);
        _table = service.GetTableClient(tablePrefix + "IngestStatus");
        _time = time ?? TimeProvider.System;
    }

    public TableClient Table => _table;

    public Task InitializeAsync(CancellationToken cancellationToken = default) =>
        _table.CreateIfNotExistsAsync(cancellationToken);

    public async Task<IngestionStatus?> GetAsync(string name, CancellationToken cancellationToken = default)
    {
        var row = await _table.GetEntityIfExistsAsync<TableEntity>(Partition, TableKeys.Key(name), cancellationToken: cancellationToken).ConfigureAwait(false);
        return row.HasValue ? ToStatus(row.Value!) : null;
    }

    /// <summary>Counts a new attempt for these bytes unless they were already processed or given up on.</summary>
    public async Task<(AttemptDecision Decision, int Attempt)> BeginAttemptAsync(string name, string sha256, int maxAttempts, CancellationToken cancellationToken = default)
    {
        for (var tries = 0; ; tries++)
        {
            var existing = await _table.GetEntityIfExistsAsync<TableEntity>(Partition, TableKeys.Key(name), cancellationToken: cancellationToken).ConfigureAwait(false);
            var row = existing.HasValue ? existing.Value : null;
            var sameContent = row is not null && string.Equals(row.GetString("Sha256"), sha256, StringComparison.Ordinal);
            var state = row?.GetString("State");
            var attempts = sameContent ? row!.GetInt32("Attempts") ?? 0 : 0;
            if (sameContent && state == IngestionStates.Processed)
            {
                return (AttemptDecision.AlreadyProcessed, attempts);
            }

            if (sameContent && (state == IngestionStates.Failed || attempts >= maxAttempts))
            {
                return (AttemptDecision.GaveUp, attempts);
            }

            var entity = new TableEntity(Partition, TableKeys.Key(name))
            {
                ["Name"] = name,
                ["State"] = IngestionStates.Processing,
                ["Attempts"] = attempts + 1,
                ["Sha256"] = sha256,
                ["Outcome"] = null,
                ["LastError"] = sameContent ? row!.GetString("LastError") : null,
                ["UpdatedAt"] = _time.GetUtcNow(),
            };
            try
            {
                if (row is null)
                {
                    await _table.AddEntityAsync(entity, cancellationToken).ConfigureAwait(false);
                }
                else
                {
                    await _table.UpdateEntityAsync(entity, row.ETag, TableUpdateMode.Replace, cancellationToken).ConfigureAwait(false);
                }

                return (AttemptDecision.Proceed, attempts + 1);
            }
            catch (RequestFailedException ex) when (ex.Status is 409 or 412 && tries < 5)
            {
                // Another instance counted an attempt at the same moment: read again.
            }
        }
    }

    public Task CompleteAsync(string name, string sha256, int attempts, string outcome, CancellationToken cancellationToken = default) =>
        WriteAsync(name, sha256, IngestionStates.Processed, attempts, outcome, null, cancellationToken);

    public Task RecordFailureAsync(string name, string sha256, int attempts, string reason, bool final, CancellationToken cancellationToken = default) =>
        WriteAsync(name, sha256, final ? IngestionStates.Failed : IngestionStates.Retrying, attempts, null, reason, cancellationToken);

    private async Task WriteAsync(string name, string sha256, string state, int attempts, string? outcome, string? error, CancellationToken cancellationToken)
    {
        var entity = new TableEntity(Partition, TableKeys.Key(name))
        {
            ["Name"] = name,
            ["State"] = state,
            ["Attempts"] = attempts,
            ["Sha256"] = sha256,
            ["Outcome"] = outcome,
            ["LastError"] = error is { Length: > 8000 } ? error[..8000] : error,
            ["UpdatedAt"] = _time.GetUtcNow(),
        };
        await _table.UpsertEntityAsync(entity, TableUpdateMode.Replace, cancellationToken).ConfigureAwait(false);
    }

    private static IngestionStatus ToStatus(TableEntity e) => new(
        e.GetString("Name") ?? string.Empty,
        e.GetString("State") ?? string.Empty,
        e.GetInt32("Attempts") ?? 0,
        e.GetString("Sha256"),
        e.GetString("Outcome"),
        e.GetString("LastError"),
        e.GetDateTimeOffset("UpdatedAt") ?? default);
}
