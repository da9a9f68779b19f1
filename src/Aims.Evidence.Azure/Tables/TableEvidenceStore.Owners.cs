using System.Globalization;
using System.Text.Json;
using Aims.Evidence.Core.Storage;
using Azure;
using Azure.Data.Tables;

namespace Aims.Evidence.Azure.Tables;

/// <summary>
/// Entry owners and sent digests in <c>{prefix}Owners</c>: PartitionKey <c>entry</c> with RowKey the entry id (one owner
/// per entry), PartitionKey <c>digest</c> with RowKey the day inverted (newest first), added only if absent so one
/// instance alone claims a day.
/// </summary>
public sealed partial class TableEvidenceStore : IOwnerStore, IDigestStore
{
    private const string OwnerPartition = "entry";
    private const string DigestPartition = "digest";

    public async Task<IReadOnlyList<EntryOwner>> ListOwnersAsync(CancellationToken cancellationToken = default)
    {
        var result = new List<EntryOwner>();
        await foreach (var e in _owners.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {OwnerPartition}"), cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            result.Add(ToOwner(e));
        }

        return result.OrderBy(o => o.ControlId, StringComparer.Ordinal).ToArray();
    }

    public async Task<EntryOwner> SetOwnerAsync(string controlId, string owner, DateOnly? dueDate, string actor, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(controlId);
        ArgumentException.ThrowIfNullOrWhiteSpace(owner);
        var record = new EntryOwner(controlId, owner, dueDate, actor, DateTimeOffset.UtcNow);
        var before = await GetEntityOrNullAsync(_owners, OwnerPartition, TableKeys.Key(controlId), cancellationToken).ConfigureAwait(false);
        await _owners.UpsertEntityAsync(
            new TableEntity(OwnerPartition, TableKeys.Key(controlId))
            {
                ["ControlId"] = controlId,
                ["Owner"] = owner,
                ["DueDate"] = dueDate?.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
                ["Actor"] = actor,
                ["At"] = record.At,
            },
            TableUpdateMode.Replace,
            cancellationToken).ConfigureAwait(false);
        await AppendAuditAsync(actor, "control.owner", controlId, before is null ? null : AuditOf(ToOwner(before)), new { owner, dueDate }, cancellationToken).ConfigureAwait(false);
        return record;
    }

    public async Task<bool> ClearOwnerAsync(string controlId, string actor, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(controlId);
        var before = await GetEntityOrNullAsync(_owners, OwnerPartition, TableKeys.Key(controlId), cancellationToken).ConfigureAwait(false);
        if (before is null)
        {
            return false;
        }

        await _owners.DeleteEntityAsync(OwnerPartition, TableKeys.Key(controlId), ETag.All, cancellationToken).ConfigureAwait(false);
        await AppendAuditAsync(actor, "control.owner", controlId, AuditOf(ToOwner(before)), null, cancellationToken).ConfigureAwait(false);
        return true;
    }

    public async Task<bool> TryClaimDigestAsync(DateOnly day, IReadOnlyList<string> gaps, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(gaps);
        try
        {
            await _owners.AddEntityAsync(
                new TableEntity(DigestPartition, DigestKey(day))
                {
                    ["Day"] = day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
                    ["At"] = DateTimeOffset.UtcNow,
                    ["GapsJson"] = Truncate(JsonSerializer.Serialize(gaps)),
                },
                cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (RequestFailedException ex) when (ex.Status == 409)
        {
            return false;
        }
    }

    public async Task ReleaseDigestAsync(DateOnly day, CancellationToken cancellationToken = default)
    {
        try
        {
            await _owners.DeleteEntityAsync(DigestPartition, DigestKey(day), ETag.All, cancellationToken).ConfigureAwait(false);
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            // Nothing claimed.
        }
    }

    public async Task<DigestRecord?> GetLastDigestBeforeAsync(DateOnly day, CancellationToken cancellationToken = default)
    {
        // Inverted keys: the first row after the day's key is the newest earlier day.
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {DigestPartition} and RowKey gt {DigestKey(day)}");
        await foreach (var e in _owners.QueryAsync<TableEntity>(filter, maxPerPage: 1, cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            return new DigestRecord(
                DateOnly.ParseExact(e.GetString("Day")!, "yyyy-MM-dd", CultureInfo.InvariantCulture),
                e.GetDateTimeOffset("At") ?? default,
                JsonSerializer.Deserialize<string[]>(e.GetString("GapsJson") ?? "[]") ?? []);
        }

        return null;
    }

    /// <summary>The day's row key: 99991231 minus yyyyMMdd, eight digits, so later days sort first.</summary>
    private static string DigestKey(DateOnly day) =>
        (99991231 - ((day.Year * 10000) + (day.Month * 100) + day.Day)).ToString("D8", CultureInfo.InvariantCulture);

    private static EntryOwner ToOwner(TableEntity e) => new(
        e.GetString("ControlId")!,
        e.GetString("Owner") ?? string.Empty,
        e.GetString("DueDate") is { } due ? DateOnly.ParseExact(due, "yyyy-MM-dd", CultureInfo.InvariantCulture) : null,
        e.GetString("Actor") ?? string.Empty,
        e.GetDateTimeOffset("At") ?? default);

    private static object AuditOf(EntryOwner owner) => new { owner.Owner, owner.DueDate };
}
