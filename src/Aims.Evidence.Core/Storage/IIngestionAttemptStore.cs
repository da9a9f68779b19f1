namespace Aims.Evidence.Core.Storage;

/// <summary>
/// Ingestion attempts that started and never finished. The pipeline records an attempt before it parses a document and
/// clears it when the document has a status, whatever the status; an attempt still recorded at the next start means
/// the process died inside it (a stack overflow or out-of-memory cannot be caught). A document that did so twice is
/// failed with that reason instead of being parsed a third time.
/// </summary>
public interface IIngestionAttemptStore
{
    /// <summary>Records that ingestion of these bytes starts (durably, before parsing); returns how many earlier attempts never finished.</summary>
    Task<int> BeginAttemptAsync(string sha256, string name, CancellationToken cancellationToken = default);

    /// <summary>Forgets the attempts on these bytes: the document got a status.</summary>
    Task EndAttemptAsync(string sha256, CancellationToken cancellationToken = default);
}
