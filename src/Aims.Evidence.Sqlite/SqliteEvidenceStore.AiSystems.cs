using System.Globalization;
using System.Text.Json;
using Aims.Evidence.Core.Inventory;

namespace Aims.Evidence.Sqlite;

/// <summary>Reviewer edits of the AI-system inventory (schema v11), each audited as <c>aisystem.{action}</c>.</summary>
public sealed partial class SqliteEvidenceStore : IAiSystemEditStore
{
    public async Task<IReadOnlyList<AiSystemEdit>> ListAiSystemEditsAsync(CancellationToken cancellationToken = default)
    {
        await InitializeAsync(cancellationToken).ConfigureAwait(false);
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var cmd = Command(connection, "SELECT body FROM ai_system_edits ORDER BY seq");
        await using var reader = await cmd.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var result = new List<AiSystemEdit>();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            if (JsonSerializer.Deserialize<AiSystemEdit>(reader.GetString(0)) is { } edit)
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
        return (await WriteAsync<AiSystemEdit>(
            async (connection, tx) =>
            {
                await ExecuteAsync(
                    connection,
                    "INSERT INTO ai_system_edits (system_id, action, body, actor, at) VALUES ($p0, $p1, $p2, $p3, $p4)",
                    cancellationToken,
                    tx,
                    stored.SystemId, stored.Action, JsonSerializer.Serialize(stored), stored.Actor, stored.At.ToString("O", CultureInfo.InvariantCulture)).ConfigureAwait(false);
                await AuditAsync(connection, tx, stored.Actor, "aisystem." + stored.Action, stored.SystemId, null, new { stored.Name, stored.TargetId, stored.Documents, stored.Purpose, stored.Provider, stored.Role }, cancellationToken).ConfigureAwait(false);
                return stored;
            },
            cancellationToken).ConfigureAwait(false))!;
    }
}
