namespace Aims.Evidence.Core.Pipeline;

/// <summary>
/// The narrow entry point hosts (Azure Functions, watchers) use to hand one document to the ingestion
/// pipeline. Returns a short human-readable outcome (for example "processed", "unchanged" or "skipped: reason").
/// Implementations throw <see cref="Extraction.DocumentRejectedException"/> for documents that can never be read;
/// any other exception is treated as transient by hosts that retry.
/// </summary>
public interface IDocumentIngestor
{
    Task<string> IngestAsync(string name, ReadOnlyMemory<byte> content, CancellationToken ct);
}
