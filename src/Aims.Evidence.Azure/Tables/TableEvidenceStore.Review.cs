using System.Globalization;
using System.Text.Json;
using Aims.Evidence.Core.Storage;
using Azure;
using Azure.Data.Tables;

namespace Aims.Evidence.Azure.Tables;

/// <summary>
/// Reviewer decisions on pipeline mappings in Table Storage. A mapping lives twice: its evidence row in
/// <c>{prefix}Mappings</c> (what gap analysis reads) and its copy in the passage row (what passage reads return); a
/// review updates the evidence row, then the passage row guarded by its ETag, then appends an entry to
/// <c>{prefix}Audit</c> (PartitionKey <c>audit</c>, RowKey sorting by time). The three writes are not one
/// transaction (Table Storage transactions stay within one partition of one table): a repeated review converges.
/// </summary>
public sealed partial class TableEvidenceStore
{
    private const string AuditPartition = "audit";

    /// <summary>
    /// Sets the review state of a mapping the pipeline wrote (id <c>{passageId}-{n}</c>, passage id
    /// <c>{documentId}-{ordinal}</c>). Returns the mapping after the change, or null when it does not exist.
    /// </summary>
    public async Task<MappingRecord?> ReviewMappingAsync(string mappingId, ReviewState state, string actor, string? comment, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(actor);
        if (!TrySplitMappingId(mappingId, out var passageId, out var documentId))
        {
            return null;
        }

        for (var attempt = 1; ; attempt++)
        {
            var row = await GetEntityOrNullAsync(_passages, TableKeys.Key(documentId), TableKeys.Key(passageId), cancellationToken).ConfigureAwait(false);
            if (row is null)
            {
                return null;
            }

            var mappings = JsonSerializer.Deserialize<List<MappingRecord>>(TableKeys.GetText(row, "MappingsJson"), Json) ?? [];
            var index = mappings.FindIndex(m => string.Equals(m.Id, mappingId, StringComparison.Ordinal));
            if (index < 0)
            {
                return null;
            }

            var before = mappings[index];
            var after = before with { Review = state };
            mappings[index] = after;

            var evidence = new TableEntity(TableKeys.Key(after.ControlId), TableKeys.Key(documentId) + "|" + TableKeys.Key(after.Id))
            {
                ["Review"] = state.ToString().ToLowerInvariant(),
            };
            await _mappings.UpdateEntityAsync(evidence, ETag.All, TableUpdateMode.Merge, cancellationToken).ConfigureAwait(false);

            TableKeys.SetText(row, "MappingsJson", JsonSerializer.Serialize(mappings, Json));
            try
            {
                await _passages.UpdateEntityAsync(row, row.ETag, TableUpdateMode.Replace, cancellationToken).ConfigureAwait(false);
            }
            catch (RequestFailedException ex) when (ex.Status == 412 && attempt < MaxCommitAttempts)
            {
                continue; // another review of the same passage meanwhile: read again
            }

            var now = DateTimeOffset.UtcNow;
            await _audit.AddEntityAsync(
                new TableEntity(AuditPartition, now.UtcTicks.ToString("D19", CultureInfo.InvariantCulture) + "-" + Guid.NewGuid().ToString("N")[..8])
                {
                    ["At"] = now,
                    ["Actor"] = actor,
                    ["Action"] = "mapping.review",
                    ["Target"] = mappingId,
                    ["Before"] = JsonSerializer.Serialize(new { review = before.Review.ToString().ToLowerInvariant() }, Json),
                    ["After"] = JsonSerializer.Serialize(new { review = state.ToString().ToLowerInvariant(), comment }, Json),
                },
                cancellationToken).ConfigureAwait(false);
            return after;
        }
    }

    /// <summary>Audit entries (oldest first): actor, action, target, before and after.</summary>
    public async Task<IReadOnlyList<(DateTimeOffset At, string Actor, string Action, string Target, string? Before, string? After)>> ListAuditAsync(CancellationToken cancellationToken = default)
    {
        var list = new List<(DateTimeOffset, string, string, string, string?, string?)>();
        await foreach (var e in _audit.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {AuditPartition}"), cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            list.Add((e.GetDateTimeOffset("At") ?? default, e.GetString("Actor") ?? string.Empty, e.GetString("Action") ?? string.Empty, e.GetString("Target") ?? string.Empty, e.GetString("Before"), e.GetString("After")));
        }

        return list;
    }

    /// <summary>Splits a pipeline mapping id into its passage id and document id.</summary>
    public static bool TrySplitMappingId(string? mappingId, out string passageId, out string documentId)
    {
        passageId = documentId = string.Empty;
        var m = mappingId?.LastIndexOf('-') ?? -1;
        if (m <= 0)
        {
            return false;
        }

        passageId = mappingId![..m];
        var p = passageId.LastIndexOf('-');
        if (p <= 0)
        {
            return false;
        }

        documentId = passageId[..p];
        return true;
    }
}
