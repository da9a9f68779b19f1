using Aims.Evidence.Core.Mapping;
using Aims.Evidence.Core.Mapping.Feedback;
using Aims.Evidence.Core.Storage;

namespace Aims.Evidence.Azure.Tables;

/// <summary>
/// Core's <see cref="IReviewStore"/> over Table Storage: reviews, manual mappings, effective dates and the audit log
/// from <see cref="TableEvidenceStore"/>, API keys from <see cref="TableApiKeyStore"/> (hashed). Creating a key is
/// audited (<c>apikey.create</c>, the key's id and role, never the key), as is revoking one (<c>apikey.revoke</c>), as in the SQLite store.
/// </summary>
public sealed class TableReviewStore(TableEvidenceStore store, TableApiKeyStore keys) : IReviewStore
{
    public Task<MappingRecord?> GetMappingAsync(string id, CancellationToken cancellationToken = default) => store.GetMappingAsync(id, cancellationToken);

    public Task<PassageRecord?> GetPassageAsync(string id, CancellationToken cancellationToken = default) => store.GetPassageAsync(id, cancellationToken);

    public Task<MappingRecord?> ReviewMappingAsync(string mappingId, ReviewState state, string actor, string? comment, CancellationToken cancellationToken = default) =>
        store.ReviewMappingAsync(mappingId, state, actor, comment, cancellationToken);

    public Task<MappingRecord?> AcceptWithPolarityAsync(string mappingId, MappingPolarity polarity, string actor, string? comment, CancellationToken cancellationToken = default) =>
        store.AcceptWithPolarityAsync(mappingId, polarity, actor, comment, cancellationToken);

    public Task<MappingRecord?> AddManualMappingAsync(string passageId, string controlId, string rationale, string actor, MappingPolarity polarity, CancellationToken cancellationToken = default) =>
        store.AddManualMappingAsync(passageId, controlId, rationale, actor, polarity, cancellationToken);

    public Task<IReadOnlyList<ReviewDecision>> ListReviewDecisionsAsync(CancellationToken cancellationToken = default) => store.ListReviewDecisionsAsync(cancellationToken);

    public Task<int> ReplaceSuggestionsAsync(IReadOnlyList<(string PassageId, IReadOnlyList<MappingSuggestion> Suggestions)> suggestions, string profileVersion, CancellationToken cancellationToken = default) =>
        store.ReplaceSuggestionsAsync(suggestions, profileVersion, cancellationToken);

    public Task<DocumentRecord?> SetEffectiveDateAsync(string documentId, DateOnly? effectiveDate, string actor, CancellationToken cancellationToken = default) =>
        store.SetEffectiveDateAsync(documentId, effectiveDate, actor, cancellationToken);

    public Task<IReadOnlyList<AuditEntry>> ListAuditAsync(long afterId = 0, int limit = 100, CancellationToken cancellationToken = default) =>
        store.ListAuditAsync(afterId, limit, cancellationToken);

    public Task AppendAuditAsync(string actor, string action, string target, object? after, CancellationToken cancellationToken = default) =>
        store.AppendAuditAsync(actor, action, target, null, after, cancellationToken);

    public async Task<(ApiKeyRecord Record, string Key)> CreateApiKeyAsync(ApiRole role, string actor, CancellationToken cancellationToken = default)
    {
        var created = await keys.CreateAsync(role, actor, cancellationToken).ConfigureAwait(false);
        await store.AppendAuditAsync(actor, "apikey.create", created.Record.Id, null, new { created.Record.Id, created.Record.Role }, cancellationToken).ConfigureAwait(false);
        return created;
    }

    public Task<ApiKeyRecord?> FindApiKeyAsync(string keySha256, CancellationToken cancellationToken = default) => keys.FindAsync(keySha256, cancellationToken);

    public async Task<ApiKeyRecord?> RevokeApiKeyAsync(string id, string actor, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(actor);
        var revoked = await keys.RevokeAsync(id, cancellationToken).ConfigureAwait(false);
        if (revoked is not null)
        {
            await store.AppendAuditAsync(actor, "apikey.revoke", revoked.Id, new { revoked.Id, revoked.Role }, null, cancellationToken).ConfigureAwait(false);
        }

        return revoked;
    }
}
