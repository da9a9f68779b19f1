using System.Runtime.CompilerServices;
using Aims.Evidence.Core.Classification;
using Aims.Evidence.Core.Extraction;
using Aims.Evidence.Core.Segmentation;

namespace Aims.Evidence.Core.Mapping.Trained;

/// <summary>
/// Document-type probabilities of the trained model: the passage model's mean scores over the document and the written
/// classifier's lexical and prototype probabilities (<see cref="EmbeddingDocumentClassifier"/>) go through the trained
/// document-level combiner; AI relevance stays the vocabulary decision (too little AI vocabulary: unrelated).
/// </summary>
public static class DocumentTypeSignals
{
    /// <summary>What the classifier computed for a document's passages, kept for the mappers of the same ingestion.</summary>
    private static readonly ConditionalWeakTable<IReadOnlyList<Passage>, Remembered> Known = [];

    /// <summary>
    /// A document's type probabilities: the trained combiner's over the model's types (for the trained mapper), and the
    /// deciding classifier's over <see cref="DocumentTypes.All"/> (for the polarity model).
    /// </summary>
    private sealed record Remembered(double[] Combiner, double[] Deciding);

    /// <summary>
    /// The written classifier's view (<see cref="EmbeddingDocumentClassifier"/>: lexical cues and prototype
    /// similarity over MiniLM) as probabilities over <paramref name="docTypes"/>, lexical and embedding parts side by
    /// side, the vocabulary's unrelated verdict, its decision, and the combined probability per type that decision is
    /// the most likely of (all mass on unrelated when the vocabulary says so).
    /// </summary>
    public static async Task<(bool Unrelated, double[] Probabilities, Classification.Classification Decision, double[] Combined)> WrittenAsync(EmbeddingDocumentClassifier classifier, ExtractedDocument document, IReadOnlyList<Passage> passages, IReadOnlyList<string> docTypes, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(classifier);
        ArgumentNullException.ThrowIfNull(docTypes);
        var analysis = await classifier.AnalyzeAsync(document, passages, cancellationToken).ConfigureAwait(false);
        var (unrelated, combined, lexical, embedding) = analysis;
        var p = new double[2 * docTypes.Count];
        var c = new double[docTypes.Count];
        for (var i = 0; i < docTypes.Count; i++)
        {
            if (unrelated is null)
            {
                p[i] = lexical.GetValueOrDefault(docTypes[i]);
                p[docTypes.Count + i] = embedding.GetValueOrDefault(docTypes[i]);
                c[i] = combined.GetValueOrDefault(docTypes[i]);
            }
            else
            {
                c[i] = docTypes[i] == DocumentTypes.Unrelated ? 1 : 0;
            }
        }

        return (unrelated is not null, p, EmbeddingDocumentClassifier.Decide(analysis), c);
    }

    /// <summary>Mean scores of the passage-level document-type model over the document's passages.</summary>
    public static double[] MeanPassageScores(LinearModel passageModel, IReadOnlyList<(float[] MiniLM, float[] Arctic)> vectors)
    {
        ArgumentNullException.ThrowIfNull(passageModel);
        ArgumentNullException.ThrowIfNull(vectors);
        var mean = new double[passageModel.Classes];
        foreach (var (mini, arctic) in vectors)
        {
            var s = passageModel.Scores(PairFeatures.LinearInput(mini, arctic));
            for (var i = 0; i < mean.Length; i++)
            {
                mean[i] += s[i] / vectors.Count;
            }
        }

        return mean;
    }

    /// <summary>The combiner's input: mean passage scores, then the written classifier's probabilities.</summary>
    public static double[] CombinerInput(double[] meanScores, double[] written) => [.. meanScores, .. written];

    /// <summary>
    /// Probabilities over the model's types for a document (unrelated by vocabulary: all mass on unrelated), and the
    /// written classifier's decision and probabilities from the same analysis.
    /// </summary>
    public static async Task<(double[] Probabilities, Classification.Classification Written, double[] WrittenProbabilities)> ProbabilitiesAsync(TrainedModel model, EmbeddingDocumentClassifier written, ExtractedDocument document, IReadOnlyList<Passage> passages, IReadOnlyList<(float[] MiniLM, float[] Arctic)> vectors, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        var (unrelated, lexical, decision, combined) = await WrittenAsync(written, document, passages, model.DocTypes, cancellationToken).ConfigureAwait(false);
        if (unrelated)
        {
            return (combined, decision, combined);
        }

        return (model.DocTypeCombiner.Probabilities(CombinerInput(MeanPassageScores(model.DocTypeModel, vectors), lexical)), decision, combined);
    }

    /// <summary>
    /// Remembers, for the mappers of the same ingestion, the combiner's probabilities over the model's types and those
    /// over <see cref="DocumentTypes.All"/> of the classifier whose decision is the document's type (the written
    /// classifier's or the trained combiner's).
    /// </summary>
    public static void Remember(IReadOnlyList<Passage> passages, double[] combiner, double[] deciding) => Known.AddOrUpdate(passages, new Remembered(combiner, deciding));

    /// <summary>The combiner's probabilities for these passages, or null when no trained classifier typed them.</summary>
    public static double[]? Recall(IReadOnlyList<Passage> passages) => Known.TryGetValue(passages, out var r) ? r.Combiner : null;

    /// <summary>The deciding classifier's type probabilities for these passages, or null when no trained classifier typed them.</summary>
    public static double[]? RecallDecided(IReadOnlyList<Passage> passages) => Known.TryGetValue(passages, out var r) ? r.Deciding : null;
}
