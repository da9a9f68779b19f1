namespace Aims.Evidence.Core.Storage;

/// <summary>
/// Durable store of documents, passages, mappings and runs. Embedded: one SQLite file; cloud: Azure Table Storage.
/// Implementations make <see cref="WriteDocumentAsync"/> atomic: a document version is either fully there or absent.
/// </summary>
public interface IEvidenceStore
{
    /// <summary>Creates or migrates the schema. Idempotent.</summary>
    Task InitializeAsync(CancellationToken cancellationToken = default);

    /// <summary>The current version of the document with this name, if any.</summary>
    Task<DocumentRecord?> GetCurrentByNameAsync(string name, CancellationToken cancellationToken = default);

    /// <summary>A current document with exactly these bytes, if any (any name).</summary>
    Task<DocumentRecord?> FindCurrentBySha256Async(string sha256, CancellationToken cancellationToken = default);

    Task<DocumentRecord?> GetDocumentAsync(string id, CancellationToken cancellationToken = default);

    /// <summary>
    /// Writes a document version with its passages and mappings in one transaction. The version number is
    /// assigned by the store (previous current version of the same name + 1) and that previous version stops
    /// being current. Returns the record as stored. When the same name and bytes are already current, nothing is
    /// written and that record is returned (callers detect this by a different id). The SQLite store also returns,
    /// without writing, the current processed version of another name with the same bytes for a processed write
    /// (atomic twin detection).
    /// </summary>
    Task<DocumentRecord> WriteDocumentAsync(DocumentWrite write, CancellationToken cancellationToken = default);

    Task<IReadOnlyList<DocumentRecord>> ListDocumentsAsync(bool includeSuperseded = false, CancellationToken cancellationToken = default);

    /// <summary>All versions of a document name, newest first.</summary>
    Task<IReadOnlyList<DocumentRecord>> GetVersionsAsync(string name, CancellationToken cancellationToken = default);

    Task<IReadOnlyList<PassageWithMappings>> GetPassagesAsync(string documentId, CancellationToken cancellationToken = default);

    /// <summary>Evidence links of current, processed documents (rejected mappings excluded), optionally for one control.</summary>
    Task<IReadOnlyList<EvidenceLink>> GetEvidenceAsync(string? controlId = null, CancellationToken cancellationToken = default);

    Task SaveRunAsync(RunRecord run, CancellationToken cancellationToken = default);

    Task<IReadOnlyList<RunRecord>> ListRunsAsync(int limit = 20, CancellationToken cancellationToken = default);
}

/// <summary>Passage search: lexical (and, where available, vector) ranking with filters.</summary>
public interface IPassageIndex
{
    Task<IReadOnlyList<SearchHit>> SearchAsync(SearchQuery query, CancellationToken cancellationToken = default);
}
