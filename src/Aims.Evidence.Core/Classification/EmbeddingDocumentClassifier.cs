using Aims.Evidence.Core.Extraction;
using Aims.Evidence.Core.Mapping;
using Aims.Evidence.Core.Segmentation;
using Microsoft.Extensions.AI;

namespace Aims.Evidence.Core.Classification;

/// <summary>
/// Classifies with the mapper's embeddings plus structure and vocabulary cues: the document (its section headings and
/// its opening passages) is compared by cosine with prototype descriptions of each type, written by us; the lexical
/// cue scores are combined with that similarity. AI relevance ("unrelated") stays a vocabulary decision. File names
/// play no part.
/// </summary>
public sealed class EmbeddingDocumentClassifier(IEmbeddingGenerator<string, Embedding<float>> generator) : IDocumentClassifier
{
    private static readonly Dictionary<string, string[]> Prototypes = new(StringComparer.Ordinal)
    {
        [DocumentTypes.Policy] =
        [
            "An organisational policy that states rules, principles and obligations: what staff and users must and must not do, who is accountable, and how the policy is approved and reviewed.",
            "Acceptable use terms for AI tools: prohibited uses, requirements developers must meet, consequences of violations.",
        ],
        [DocumentTypes.Procedure] =
        [
            "A procedure or runbook: ordered steps, roles, inputs and outputs, approvals and records for carrying out a process.",
            "A test and evaluation plan or technical decision record describing how something will be done, checked and monitored, and by whom.",
        ],
        [DocumentTypes.ModelCard] =
        [
            "A model card describing one machine learning model: model details, intended use, out-of-scope uses, training data, evaluation results, limitations, bias and ethical considerations.",
        ],
        [DocumentTypes.DataCard] =
        [
            "A datasheet for a dataset: motivation, composition, collection process, preprocessing and labelling, uses, distribution, licence and maintenance of the data.",
            "Dataset documentation with statistics of recordings, speakers, demographics, splits and sources of the text or samples.",
        ],
        [DocumentTypes.RiskAssessment] =
        [
            "A risk assessment or threat analysis: risks and vulnerabilities, how attackers or failures cause harm, likelihood and severity, and prevention and mitigation measures.",
        ],
        [DocumentTypes.ImpactAssessment] =
        [
            "An impact assessment of an AI system on people and society: affected individuals and groups, benefits and harms, fundamental rights, safeguards and recommendations.",
            "An assessment questionnaire or template to determine the applicability and impact of regulation on an algorithmic system.",
        ],
        [DocumentTypes.AuditReport] =
        [
            "An audit or assurance report by an independent reviewer: scope, criteria, method, findings, conclusions and recommendations about an algorithm or management system.",
        ],
        [DocumentTypes.IncidentReport] =
        [
            "An incident report or case study of an AI failure or attack: what happened, timeline, impact, techniques used, root cause and lessons learned.",
        ],
        [DocumentTypes.Inventory] =
        [
            "An inventory or register listing many AI systems or use cases, one row each, with owner, purpose, stage of development and risk classification.",
        ],
        [DocumentTypes.Reference] =
        [
            "A general framework, standard or guidance document for many organisations: concepts, principles, recommended practices and controls, not specific to one system.",
        ],
    };

    private readonly Lazy<Task<Dictionary<string, float[][]>>> _prototypeVectors = new(() => EmbedPrototypes(generator));

    /// <summary>Weight of the embedding similarity against the lexical cue scores (both turned into probabilities).</summary>
    public double EmbeddingWeight { get; init; } = 0.35;

    public async Task<Classification> ClassifyAsync(ExtractedDocument document, IReadOnlyList<Passage> passages, string fileName, string? runId = null, CancellationToken cancellationToken = default) =>
        Decide(await AnalyzeAsync(document, passages, cancellationToken).ConfigureAwait(false));

    /// <summary>The classification an analysis leads to: the vocabulary's verdict, else the most probable combined type.</summary>
    public static Classification Decide((Classification? Unrelated, Dictionary<string, double> Combined, Dictionary<string, double> Lexical, Dictionary<string, double> Embedding) analysis)
    {
        var (unrelated, combined, pLex, pEmb) = analysis;
        if (unrelated is not null)
        {
            return unrelated;
        }

        var ranked = combined.OrderByDescending(kv => kv.Value).ToArray();
        var best = ranked[0];
        return new Classification(
            best.Key,
            Math.Round(best.Value, 2),
            $"Cues favour {pLex.MaxBy(kv => kv.Value).Key} ({pLex.Values.Max():0.00}), content resembles {pEmb.MaxBy(kv => kv.Value).Key} ({pEmb.Values.Max():0.00}); combined {best.Key} ({best.Value:0.00}) ahead of {ranked[1].Key} ({ranked[1].Value:0.00}).");
    }

    /// <summary>
    /// The vocabulary verdict (unrelated, or null) and otherwise the combined probability per type, with its lexical and
    /// embedding parts.
    /// </summary>
    public async Task<(Classification? Unrelated, Dictionary<string, double> Combined, Dictionary<string, double> Lexical, Dictionary<string, double> Embedding)> AnalyzeAsync(
        ExtractedDocument document, IReadOnlyList<Passage> passages, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(document);
        ArgumentNullException.ThrowIfNull(passages);
        var (unrelated, lexical) = LexicalDocumentClassifier.Analyze(document);
        if (unrelated is not null)
        {
            return (unrelated, [], [], []);
        }

        var headings = string.Join("; ", document.Blocks.Where(b => b.Kind == BlockKind.Heading).Select(b => b.Text).Distinct().Take(40));
        var texts = new List<string> { "Sections: " + headings };
        texts.AddRange(passages.Take(8).Select(p => p.Text));
        var vectors = await generator.GenerateAsync(texts, cancellationToken: cancellationToken).ConfigureAwait(false);
        var centroid = new float[vectors[0].Vector.Length];
        foreach (var v in vectors)
        {
            var span = v.Vector.Span;
            for (var i = 0; i < centroid.Length; i++)
            {
                centroid[i] += span[i];
            }
        }

        var query = VectorMath.Normalize(centroid);
        var prototypes = await _prototypeVectors.Value.WaitAsync(cancellationToken).ConfigureAwait(false);
        var similarity = prototypes.ToDictionary(kv => kv.Key, kv => (double)kv.Value.Max(p => VectorMath.Dot(query, p)), StringComparer.Ordinal);

        var pLex = Softmax(lexical, 4);
        var pEmb = Softmax(similarity, 0.03);
        var combined = pLex.Keys.ToDictionary(k => k, k => ((1 - EmbeddingWeight) * pLex[k]) + (EmbeddingWeight * pEmb.GetValueOrDefault(k)), StringComparer.Ordinal);
        return (null, combined, pLex, pEmb);
    }

    private static Dictionary<string, double> Softmax(Dictionary<string, double> scores, double temperature)
    {
        var max = scores.Values.Max();
        var exp = scores.ToDictionary(kv => kv.Key, kv => Math.Exp((kv.Value - max) / temperature), StringComparer.Ordinal);
        var sum = exp.Values.Sum();
        return exp.ToDictionary(kv => kv.Key, kv => kv.Value / sum, StringComparer.Ordinal);
    }

    private static async Task<Dictionary<string, float[][]>> EmbedPrototypes(IEmbeddingGenerator<string, Embedding<float>> generator)
    {
        var result = new Dictionary<string, float[][]>(StringComparer.Ordinal);
        foreach (var (type, texts) in Prototypes)
        {
            var vectors = await generator.GenerateAsync(texts).ConfigureAwait(false);
            result[type] = vectors.Select(v => VectorMath.Normalize(v.Vector.Span)).ToArray();
        }

        return result;
    }
}
