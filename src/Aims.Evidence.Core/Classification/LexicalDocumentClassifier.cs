using Aims.Evidence.Core.Extraction;
using Aims.Evidence.Core.Segmentation;
using Aims.Evidence.Core.Lexical;

namespace Aims.Evidence.Core.Classification;

/// <summary>
/// Classifies from content cues: phrases typical of each document type, weighted more in headings and the title,
/// structure (share of table rows), and an AI-relevance density that decides "unrelated". The file name is deliberately
/// ignored: customers' file names are neutral or misleading, and the evaluation uses neutral names.
/// </summary>
public sealed class LexicalDocumentClassifier : IDocumentClassifier
{
    internal static readonly string[] AiTerms =
    [
        "ai", "artificial intelligence", "machine learning", "model", "models", "algorithm", "algorithms", "algorithmic",
        "neural", "llm", "llms", "language model", "training data", "dataset", "datasets", "automated decision",
        "generative", "classifier", "deep learning", "inference", "fine tuning", "fine tuned", "chatbot", "risk profile",
        "prediction", "predictive", "speech recognition", "computer vision", "embedding", "prompt", "deepfake",
        "large language models", "synthetic media", "corpus", "training", "trained", "chat agent", "automated",
        "annotation", "annotations", "labelled", "labeled", "data subjects", "transcription", "recognition",
    ];

    private static readonly Dictionary<string, (string Cue, double Weight)[]> Cues = new(StringComparer.Ordinal)
    {
        [DocumentTypes.Policy] =
        [
            ("policy", 2), ("acceptable use", 3), ("prohibited", 2), ("must not", 1), ("shall", 0.6), ("must", 0.4),
            ("principles", 1.5), ("terms", 0.5), ("we expect", 1), ("you may not", 2), ("code of conduct", 2), ("scope of this policy", 3),
            ("policy owner", 3), ("violation", 1), ("requirements for", 1), ("guiding principles", 2), ("commitment", 1),
        ],
        [DocumentTypes.Procedure] =
        [
            ("procedure", 2.5), ("step", 1), ("steps", 1), ("process", 0.8), ("checklist", 2), ("workflow", 1.5), ("runbook", 3),
            ("guideline", 1.5), ("guidelines", 1.5), ("decision", 1), ("consequences", 1.5), ("status accepted", 3), ("context", 0.5),
            ("test plan", 2.5), ("evaluation plan", 2.5), ("responsible party", 2), ("cadence", 1.5), ("how to", 1), ("controls", 0.6),
            ("implementation", 0.6), ("testing and evaluation", 2),
        ],
        [DocumentTypes.ModelCard] =
        [
            ("model card", 5), ("model details", 4), ("intended use", 3), ("intended uses", 3), ("out of scope", 2.5),
            ("model type", 3), ("model date", 3), ("model version", 3), ("limitations", 1.5), ("training data", 1.5),
            ("evaluation data", 2), ("performance", 0.8), ("primary intended", 4), ("system card", 5), ("parameters", 0.8),
            ("architecture", 1), ("bias", 0.5), ("weights", 1), ("checkpoint", 1.5), ("zero shot", 1.5),
        ],
        [DocumentTypes.DataCard] =
        [
            ("datasheet", 5), ("data card", 5), ("dataset", 1.5), ("data set", 1.5), ("composition", 2), ("collection process", 3),
            ("preprocessing", 1.5), ("annotation", 1.5), ("demographics", 2), ("instances", 1.5), ("splits", 2), ("corpus", 1.5),
            ("distribution", 0.8), ("maintenance", 0.8), ("motivation", 1.5), ("recordings", 1.5), ("clips", 1.5), ("contributors", 1),
            ("licence", 0.5), ("license", 0.5), ("sentences", 1), ("speakers", 1.5), ("tokens", 1),
        ],
        [DocumentTypes.RiskAssessment] =
        [
            ("risk", 0.8), ("risks", 0.8), ("threat", 1.5), ("vulnerability", 2), ("attack scenario", 3), ("attack scenarios", 3),
            ("mitigation", 1.5), ("prevention", 1.5), ("likelihood", 2), ("severity", 1.5), ("risk register", 5), ("risk assessment", 3),
            ("poisoning", 2), ("exploit", 1.5), ("attacker", 1.5), ("common examples", 2), ("residual risk", 2),
        ],
        [DocumentTypes.ImpactAssessment] =
        [
            ("impact assessment", 5), ("impact analysis", 5), ("affected", 1), ("fundamental rights", 3), ("stakeholders", 1),
            ("harms", 1.5), ("benefits", 1), ("societal", 1.5), ("dpia", 4), ("public panel", 3), ("readiness", 2), ("safeguards", 1.5),
            ("impact", 0.6), ("high risk", 1.5), ("ai act", 2), ("applicability", 1.5), ("questionnaire", 2), ("recommendations", 0.5),
        ],
        [DocumentTypes.AuditReport] =
        [
            ("audit", 3), ("auditor", 3), ("audit report", 5), ("findings", 2), ("recommendations", 1.5), ("assurance", 2),
            ("commission", 1.5), ("advice", 1), ("conclusion", 1), ("bias measurement", 3), ("assessed", 1), ("technical audit", 4),
            ("nonconformity", 3), ("observation", 1), ("audit criteria", 4), ("evaluation", 0.5), ("normative", 1.5), ("quality checks", 1.5),
        ],
        [DocumentTypes.IncidentReport] =
        [
            ("incident", 3), ("incidents", 3), ("post mortem", 4), ("root cause", 3), ("case study", 3), ("attack", 1), ("bypass", 2),
            ("timeline", 1.5), ("reported", 1), ("harm", 1), ("failure", 1.5), ("procedure", 0.3), ("tactic", 2), ("technique", 1.5),
            ("roundup", 3), ("lessons learned", 3), ("victim", 2), ("adversary", 2),
        ],
        [DocumentTypes.Inventory] =
        [
            ("inventory", 5), ("use case", 2), ("use cases", 2), ("use case name", 4), ("agency", 1.5), ("register", 1.5),
            ("system name", 3), ("stage of development", 3), ("deployed", 1), ("bureau", 1.5), ("high impact", 1), ("operational", 0.8),
        ],
        [DocumentTypes.Reference] =
        [
            ("framework", 2.5), ("standard", 1), ("guidance", 2), ("organizations", 0.8), ("organisations", 0.8), ("practices", 1),
            ("trustworthy", 2), ("characteristics", 1.5), ("appendix", 1), ("this document", 1), ("publication", 1.5),
            ("govern", 1), ("controls", 0.5), ("lifecycle", 1), ("life cycle", 1), ("actors", 1.5), ("voluntary", 2),
        ],
    };

    public Task<Classification> ClassifyAsync(ExtractedDocument document, IReadOnlyList<Passage> passages, string fileName, string? runId = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(document);
        return Task.FromResult(Classify(document));
    }

    public static Classification Classify(ExtractedDocument document)
    {
        var (unrelated, scores) = Analyze(document);
        if (unrelated is not null)
        {
            return unrelated;
        }

        var ranked = scores.OrderByDescending(kv => kv.Value).ToArray();
        var best = ranked[0];
        var second = ranked[1];
        var total = ranked.Sum(kv => Math.Exp(kv.Value / 4));
        var confidence = Math.Exp(best.Value / 4) / total;
        return new Classification(best.Key, Math.Round(confidence, 2), $"Strongest cues for {best.Key} ({best.Value:0.0}) ahead of {second.Key} ({second.Value:0.0}).");
    }

    /// <summary>
    /// The lexical evidence: a verdict of "unrelated" when AI vocabulary is too sparse, otherwise a cue score per
    /// document type (higher is stronger).
    /// </summary>
    public static (Classification? Unrelated, Dictionary<string, double> Scores) Analyze(ExtractedDocument document)
    {
        ArgumentNullException.ThrowIfNull(document);
        var body = " " + Tokenizer.Normalize(document.Text) + " ";
        var words = Math.Max(1, body.Count(c => c == ' ') - 1);
        var headings = " " + Tokenizer.Normalize(string.Join(" . ", document.Blocks.Where(b => b.Kind == BlockKind.Heading).Select(b => b.Text))) + " ";
        var head = " " + Tokenizer.Normalize(string.Join(" ", document.Blocks.Take(6).Select(b => b.Text))) + " ";

        var aiHits = AiTerms.Sum(t => Count(body, t));
        var aiDensity = aiHits * 1000.0 / words;
        var distinctAi = AiTerms.Count(t => Count(body, t) > 0);
        if (aiDensity < 1.5 || (distinctAi < 2 && aiDensity < 4))
        {
            var conf = Math.Clamp(0.95 - (aiDensity / 3), 0.5, 0.95);
            return (new Classification(DocumentTypes.Unrelated, Math.Round(conf, 2), $"AI vocabulary density {aiDensity:0.0} per 1000 words ({distinctAi} distinct terms)."), []);
        }

        var scores = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var (type, cues) in Cues)
        {
            double s = 0;
            foreach (var (cue, weight) in cues)
            {
                var inBody = Count(body, cue);
                s += weight * Math.Log(1 + (inBody * 1000.0 / words));
                s += weight * 1.5 * Math.Min(3, Count(headings, cue));
                s += weight * 2 * Math.Min(1, Count(head, cue));
            }

            scores[type] = s;
        }

        var tableShare = document.Blocks.Count == 0 ? 0 : document.Blocks.Count(b => b.Kind == BlockKind.TableRow) / (double)document.Blocks.Count;
        if (tableShare > 0.6)
        {
            scores[DocumentTypes.Inventory] += 6 * tableShare;
        }

        return (null, scores);
    }

    internal static int Count(string haystack, string phrase)
    {
        var needle = " " + phrase + " ";
        var count = 0;
        var index = 0;
        while ((index = haystack.IndexOf(needle, index, StringComparison.Ordinal)) >= 0)
        {
            count++;
            index += needle.Length - 1;
        }

        return count;
    }
}
