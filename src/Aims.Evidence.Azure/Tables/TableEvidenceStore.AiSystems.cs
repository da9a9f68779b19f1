using System.Globalization;
using System.Text.Json;
using Aims.Evidence.Core.Inventory;
using Azure.Data.Tables;

namespace Aims.Evidence.Azure.Tables;

/// <summary>
/// Reviewer edits of the AI-system inventory in <c>{prefix}Owners</c>, PartitionKey <c>aisystem-edit</c>, RowKey the
/// time in ticks (19 digits) and a random suffix, so a query returns them oldest first; each audited as <c>aisystem.{action}</c>.
/// </summary>
public sealed partial class TableEvidenceStore : IAiSystemEditStore
{
    private const string AiSystemEditPartition = "aisystem-edit";

    public async Task<IReadOnlyList<AiSystemEdit>> ListAiSystemEditsAsync(CancellationToken cancellationToken = default)
    {
        var result = new List<AiSystemEdit>();
        await foreach (var e in _owners.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {AiSystemEditPartition}"), cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            if (JsonSerializer.Deserialize<AiSystemEdit>(e.GetString("Body") ?? "null") is { } edit)
            {
                result.Add(edit);
            }
        }

        return result;
    }

    public async Task<AiSystemEdit> AddAiSystemEditAsync(AiSystemEdit edit, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(edit);
        var stored = edit with { At = DateTimeOffset.UtcNow };
        var rowKey = stored.At.UtcTicks.ToString("D19", CultureInfo.InvariantCulture) + "-" + Guid.NewGuid().ToString("N")[..8];
        await _owners.AddEntityAsync(
            new TableEntity(AiSystemEditPartition, rowKey)
            {
                ["SystemId"] = stored.SystemId,
                ["Action"] = stored.Action,
                ["Body"] = Truncate(JsonSerializer.Serialize(stored)),
                ["Actor"] = stored.Actor,
                ["At"] = stored.At,
            },
            cancellationToken).ConfigureAwait(false);
        await AppendAuditAsync(stored.Actor, "aisystem." + stored.Action, stored.SystemId, null, new { stored.Name, stored.TargetId, stored.Documents, stored.Purpose, stored.Provider, stored.Role }, cancellationToken).ConfigureAwait(false);
        return stored;
    }
}
