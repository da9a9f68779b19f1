using Aims.Evidence.Core.Extraction;
using Aims.Evidence.Core.Segmentation;

namespace Aims.Evidence.Core.Classification;

/// <summary>Assigns one of <see cref="DocumentTypes"/> from content (the file name is at most a weak hint).</summary>
public interface IDocumentClassifier
{
    Task<Classification> ClassifyAsync(ExtractedDocument document, IReadOnlyList<Passage> passages, string fileName, CancellationToken cancellationToken = default);
}
