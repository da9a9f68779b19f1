using System.Globalization;
using Aims.Evidence.Core.Classification;
using Aims.Evidence.Core.Extraction;
using Aims.Evidence.Core.Segmentation;

namespace Aims.Evidence.Core.Mapping.Trained;

/// <summary>
/// Document type from the trained document-type models: the passage model's mean scores over both encoders' vectors
/// (the same vectors the trained mapper then uses) and the lexical cue scores, combined by the trained document-level
/// model; too little AI vocabulary means unrelated. File names play no part.
/// </summary>
public sealed class TrainedDocumentClassifier(TrainedModel model, PassageEncoder encoder, EmbeddingDocumentClassifier written) : IDocumentClassifier
{
    public async Task<Classification.Classification> ClassifyAsync(ExtractedDocument document, IReadOnlyList<Passage> passages, string fileName, string? runId = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(passages);
        if (passages.Count == 0)
        {
            return new Classification.Classification(DocumentTypes.Unrelated, 0, "no passages");
        }

        var vectors = await encoder.EncodeAsync(passages, cancellationToken).ConfigureAwait(false);
        var (p, decided, writtenProbabilities) = await DocumentTypeSignals.ProbabilitiesAsync(model, written, document, passages, vectors, cancellationToken).ConfigureAwait(false);
        var deciding = model.DocTypeDecision == "written" ? writtenProbabilities : p;
        DocumentTypeSignals.Remember(passages, p, [.. DocumentTypes.All.Select(t => Array.IndexOf(model.DocTypes, t) is var i and >= 0 ? deciding[i] : 0)]);
        var order = Enumerable.Range(0, p.Length).OrderByDescending(i => p[i]).ToArray();
        var best = order[0];
        if (model.DocTypeDecision == "written")
        {
            return decided with { Rationale = $"{decided.Rationale} (written classifier: it measured better than the trained combiner on the training corpus, model {model.Version})" };
        }

        var rationale = string.Join(", ", order.Take(3).Select(i => string.Create(CultureInfo.InvariantCulture, $"{model.DocTypes[i]} {p[i]:0.00}")));
        return new Classification.Classification(model.DocTypes[best], Math.Round(p[best], 4), $"trained document-type model {model.Version}: {rationale}");
    }
}
