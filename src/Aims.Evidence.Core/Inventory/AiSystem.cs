namespace Aims.Evidence.Core.Inventory;

/// <summary>Where a system was found: a document, its page (or sheet) and rows, the passage and the citation text.</summary>
public sealed record AiSystemCitation(string DocumentId, string DocumentName, int Page, int? RowStart, string PassageId, string Citation);

/// <summary>
/// One AI system of the inventory. <see cref="Id"/> is stable: derived from the normalised name (and, for an inventory
/// row, its organisational unit), so a reviewer's edits keyed by it survive re-ingestion of the same documents.
/// </summary>
public sealed record AiSystem
{
    public required string Id { get; init; }

    public required string Name { get; init; }

    public IReadOnlyList<string> Aliases { get; init; } = [];

    public string? Purpose { get; init; }

    public string? Provider { get; init; }

    /// <summary>The organisation's role: developer, provider, deployer or user; null when the documents do not say.</summary>
    public string? Role { get; init; }

    public string? Lifecycle { get; init; }

    public string? RiskLevel { get; init; }

    /// <summary>The organisational unit of an inventory row (e.g. "DHS CBP"); null for systems found in prose.</summary>
    public string? Unit { get; init; }

    public string? Data { get; init; }

    /// <summary>model, use-case, product or tool.</summary>
    public string Kind { get; init; } = "product";

    /// <summary>derived (from the documents), llm (suggested by the language model at ingestion, see
    /// <see cref="AiSystemEditActions.Suggest"/>) or manual (added by a reviewer).</summary>
    public string Source { get; init; } = "derived";

    public bool Confirmed { get; init; }

    public IReadOnlyList<AiSystemCitation> Citations { get; init; } = [];
}

/// <summary>The reviewer edits of the inventory, applied in order on top of the derived systems.</summary>
public static class AiSystemEditActions
{
    public const string Confirm = "confirm";
    public const string Reject = "reject";
    public const string Rename = "rename";
    public const string Merge = "merge";
    public const string Split = "split";
    public const string Add = "add";

    /// <summary>
    /// A machine suggestion written at ingestion by the LLM pass (actor "llm:&lt;model&gt;"), tied to one document
    /// version (<see cref="AiSystemEdit.DocumentId"/>): applied before the reviewer edits, and only while that version
    /// is the current one. Not accepted from the API.
    /// </summary>
    public const string Suggest = "suggest";

    /// <summary>The actions a reviewer may send.</summary>
    public static IReadOnlyList<string> All { get; } = [Confirm, Reject, Rename, Merge, Split, Add];
}

/// <summary>
/// One reviewer edit of the inventory, kept apart from the derived systems so it survives re-ingestion.
/// <see cref="SystemId"/> is the system edited (for <c>add</c>, the new system's id); <see cref="Name"/> the new
/// name (rename, split, add); <see cref="TargetId"/> the system merged into (merge); <see cref="Documents"/> the
/// document names a split moves to the new system; <see cref="Purpose"/>, <see cref="Provider"/> and
/// <see cref="Role"/> describe a system added by hand.
/// </summary>
public sealed record AiSystemEdit
{
    public required string Action { get; init; }

    public required string SystemId { get; init; }

    public string? Name { get; init; }

    public string? TargetId { get; init; }

    public IReadOnlyList<string> Documents { get; init; } = [];

    public string? Purpose { get; init; }

    public string? Provider { get; init; }

    public string? Role { get; init; }

    /// <summary>suggest: the document version the suggestion was read from (a document id is one version).</summary>
    public string? DocumentId { get; init; }

    /// <summary>suggest: the ids of the passages that describe the system.</summary>
    public IReadOnlyList<string> Passages { get; init; } = [];

    /// <summary>suggest: other names of the system.</summary>
    public IReadOnlyList<string> Aliases { get; init; } = [];

    /// <summary>suggest: lifecycle stage as the document states it.</summary>
    public string? Lifecycle { get; init; }

    /// <summary>suggest: risk level as the document states it.</summary>
    public string? RiskLevel { get; init; }

    public string Actor { get; init; } = "anonymous";

    public DateTimeOffset At { get; init; }
}

/// <summary>The reviewer edits of the AI-system inventory (append only; every edit audited as <c>aisystem.{action}</c>).</summary>
public interface IAiSystemEditStore
{
    /// <summary>Every edit, oldest first.</summary>
    Task<IReadOnlyList<AiSystemEdit>> ListAiSystemEditsAsync(CancellationToken cancellationToken = default);

    /// <summary>Appends the edit (stamped with the time) and its audit entry; returns it as stored.</summary>
    Task<AiSystemEdit> AddAiSystemEditAsync(AiSystemEdit edit, CancellationToken cancellationToken = default);
}

/// <summary>
/// Lists the AI systems a prose document describes, as <see cref="AiSystemEditActions.Suggest"/> edits (the LLM pass,
/// <c>LlmAiSystemLister</c>); never throws for a bad answer: it returns no suggestions instead.
/// </summary>
public interface IAiSystemLister
{
    /// <param name="runId">The ingestion run, for its token budget (null outside a run).</param>
    Task<IReadOnlyList<AiSystemEdit>> ListAsync(string documentId, string documentName, string docType, IReadOnlyList<Segmentation.Passage> passages, string? runId = null, CancellationToken cancellationToken = default);
}
