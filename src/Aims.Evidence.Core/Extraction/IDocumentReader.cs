namespace Aims.Evidence.Core.Extraction;

/// <summary>Sniffs the media type and runs the matching extractor. Throws <see cref="DocumentRejectedException"/> with a reason.</summary>
public interface IDocumentReader
{
    Task<ExtractedDocument> ReadAsync(ReadOnlyMemory<byte> content, string fileName, ExtractionLimits limits, CancellationToken ct = default);
}
