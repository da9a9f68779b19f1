using Aims.Evidence.Core.Mapping;
using Aims.Evidence.Core.Mapping.Feedback;

namespace Aims.Evidence.Core.Storage;

/// <summary>
/// Reviewer actions, the audit log and API keys. Separate from <see cref="IEvidenceStore"/> so adapters that only
/// ingest do not have to implement it. Every state-changing method appends an audit entry in the same transaction.
/// </summary>
public interface IReviewStore
{
    Task<MappingRecord?> GetMappingAsync(string id, CancellationToken cancellationToken = default);

    Task<PassageRecord?> GetPassageAsync(string id, CancellationToken cancellationToken = default);

    /// <summary>Sets a mapping's review state; returns the mapping after the change, or null when it does not exist.</summary>
    Task<MappingRecord?> ReviewMappingAsync(string mappingId, ReviewState state, string actor, string? comment, CancellationToken cancellationToken = default);

    /// <summary>
    /// Accepts a mapping with the polarity a reviewer gives it: a passage the model read as a finding that in fact
    /// supports the entry, or the reverse. Audited as <c>mapping.review</c> with the polarity before and after; null
    /// when the mapping does not exist.
    /// </summary>
    Task<MappingRecord?> AcceptWithPolarityAsync(string mappingId, MappingPolarity polarity, string actor, string? comment, CancellationToken cancellationToken = default);

    /// <summary>Adds a reviewer's mapping (method "manual", score 1, accepted) of a passage to a control; null when the passage does not exist.</summary>
    Task<MappingRecord?> AddManualMappingAsync(string passageId, string controlId, string rationale, string actor, MappingPolarity polarity, CancellationToken cancellationToken = default);

    /// <summary>
    /// Every reviewer decision: accepted and rejected mappings and manual mappings (accepted), with their passage's text,
    /// of current and superseded document versions (a decision keeps teaching after its document is replaced).
    /// </summary>
    Task<IReadOnlyList<ReviewDecision>> ListReviewDecisionsAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// Replaces the unreviewed, non-manual mappings of each passage with <paramref name="suggestions"/> (re-scoring
    /// after reviews); reviewed and manual mappings stay. One transaction; returns how many passages changed.
    /// </summary>
    Task<int> ReplaceSuggestionsAsync(IReadOnlyList<(string PassageId, IReadOnlyList<MappingSuggestion> Suggestions)> suggestions, string profileVersion, CancellationToken cancellationToken = default);

    /// <summary>Sets (or clears) a document version's effective date; null when the document does not exist.</summary>
    Task<DocumentRecord?> SetEffectiveDateAsync(string documentId, DateOnly? effectiveDate, string actor, CancellationToken cancellationToken = default);

    /// <summary>Audit entries, oldest first, with an id greater than <paramref name="afterId"/>.</summary>
    Task<IReadOnlyList<AuditEntry>> ListAuditAsync(long afterId = 0, int limit = 100, CancellationToken cancellationToken = default);

    /// <summary>Appends an audit entry for an action the store does not perform itself (an upload): who, what, on which target, the state after (JSON).</summary>
    Task AppendAuditAsync(string actor, string action, string target, object? after, CancellationToken cancellationToken = default);

    /// <summary>Stores a new API key (only its SHA-256 hash) and returns the record and the key itself, which is never stored.</summary>
    Task<(ApiKeyRecord Record, string Key)> CreateApiKeyAsync(ApiRole role, string actor, CancellationToken cancellationToken = default);

    /// <summary>The key with this SHA-256 (lower-case hex) hash, if any.</summary>
    Task<ApiKeyRecord?> FindApiKeyAsync(string keySha256, CancellationToken cancellationToken = default);

    /// <summary>
    /// Revokes the key with this id: it authenticates no more from the next request on; audited as <c>apikey.revoke</c>
    /// (the id and the role it had, never the key). Null when there is no such key.
    /// </summary>
    Task<ApiKeyRecord?> RevokeApiKeyAsync(string id, string actor, CancellationToken cancellationToken = default);
}

/// <summary>API roles, ordered: each includes the rights of the ones before it.</summary>
public enum ApiRole
{
    Reader = 1,
    Reviewer = 2,
    Admin = 3,
}

public sealed record ApiKeyRecord(string Id, ApiRole Role, DateTimeOffset CreatedAt);

/// <summary>One append-only audit entry: who (API key id), when, what action on which target, state before and after (JSON).</summary>
public sealed record AuditEntry(long Id, DateTimeOffset At, string Actor, string Action, string Target, string? Before, string? After);
