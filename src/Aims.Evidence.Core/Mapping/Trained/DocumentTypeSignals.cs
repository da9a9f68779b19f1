using System.Runtime.CompilerServices;
using Aims.Evidence.Core.Classification;
using Aims.Evidence.Core.Extraction;
using Aims.Evidence.Core.Segmentation;

namespace Aims.Evidence.Core.Mapping.Trained;

/// <summary>
/// Document-type probabilities of the trained model: the passage model's mean scores over the document and the lexical
/// cue scores (<see cref="LexicalDocumentClassifier.Analyze"/>) go through the trained document-level combiner; AI
/// relevance stays the vocabulary decision (too little AI vocabulary: unrelated, probability 1).
/// </summary>
public static class DocumentTypeSignals
{
    private static readonly ConditionalWeakTable<IReadOnlyList<Passage>, double[]> Known = [];

    /// <summary>Softmax (temperature 4) of the lexical cue scores over <paramref name="docTypes"/>, and the unrelated verdict.</summary>
    public static (bool Unrelated, double[] Probabilities) Lexical(ExtractedDocument document, IReadOnlyList<string> docTypes)
    {
        ArgumentNullException.ThrowIfNull(docTypes);
        var (unrelated, scores) = LexicalDocumentClassifier.Analyze(document);
        var p = new double[docTypes.Count];
        if (unrelated is not null || scores.Count == 0)
        {
            return (unrelated is not null, p);
        }

        var max = scores.Values.Max();
        for (var i = 0; i < p.Length; i++)
        {
            p[i] = scores.TryGetValue(docTypes[i], out var v) ? Math.Exp((v - max) / 4) : 0;
        }

        var sum = p.Sum();
        return (false, p.Select(x => x / sum).ToArray());
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

    /// <summary>The combiner's input: mean passage scores, then lexical probabilities.</summary>
    public static double[] CombinerInput(double[] meanScores, double[] lexical) => [.. meanScores, .. lexical];

    /// <summary>Probabilities over the model's types for a document (unrelated by vocabulary: all mass on unrelated).</summary>
    public static double[] Probabilities(TrainedModel model, ExtractedDocument document, IReadOnlyList<(float[] MiniLM, float[] Arctic)> vectors)
    {
        ArgumentNullException.ThrowIfNull(model);
        var (unrelated, lexical) = Lexical(document, model.DocTypes);
        if (unrelated)
        {
            var p = new double[model.DocTypes.Length];
            p[Array.IndexOf(model.DocTypes, DocumentTypes.Unrelated)] = 1;
            return p;
        }

        return model.DocTypeCombiner.Probabilities(CombinerInput(MeanPassageScores(model.DocTypeModel, vectors), lexical));
    }

    /// <summary>Remembers the probabilities computed for a document's passages, for the mapper of the same ingestion.</summary>
    public static void Remember(IReadOnlyList<Passage> passages, double[] probabilities) => Known.AddOrUpdate(passages, probabilities);

    public static double[]? Recall(IReadOnlyList<Passage> passages) => Known.TryGetValue(passages, out var p) ? p : null;
}
