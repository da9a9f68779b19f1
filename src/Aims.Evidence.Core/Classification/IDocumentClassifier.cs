using Aims.Evidence.Core.Extraction;
using Aims.Evidence.Core.Segmentation;

namespace Aims.Evidence.Core.Classification;

/// <summary>Assigns one of <see cref="DocumentTypes"/> from content (the file name is at most a weak hint).</summary>
public interface IDocumentClassifier
{
    /// <param name="runId">The ingestion run, for the token budget of a classifier that calls a model (null outside a run).</param>
    Task<Classification> ClassifyAsync(ExtractedDocument document, IReadOnlyList<Passage> passages, string fileName, string? runId = null, CancellationToken cancellationToken = default);
}
