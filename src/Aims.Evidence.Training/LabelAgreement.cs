using Aims.Evidence.Core.Catalog;

namespace Aims.Evidence.Training;

/// <summary>Agreement between two labellers over the passages both labelled.</summary>
public sealed record LabelAgreement(int Passages, double Precision, double Recall, double F1, double StrictF1, double Observed, double Kappa, int DocTypeAgreement)
{
    /// <summary>Passages both labellers call evidence: where polarity (supports / finding) is compared.</summary>
    public int PolarityPassages { get; init; }

    /// <summary>Share of <see cref="PolarityPassages"/> on which both labellers gave the same polarity.</summary>
    public double PolarityObserved { get; init; }

    /// <summary>Cohen's kappa on finding / supports over <see cref="PolarityPassages"/>.</summary>
    public double PolarityKappa { get; init; }

    /// <summary>Passages both call evidence that the first labeller calls a finding, and that the second does.</summary>
    public (int First, int Second) PolarityFindings { get; init; }

    /// <summary>
    /// Passage F1 treats the first labeller as reference: a second labeller's primary id agrees when it is among the
    /// first's primary or "also" ids (and vice versa for recall), as the evaluation scores a mapper; the strict F1
    /// counts primary ids only. Kappa is Cohen's on evidence / no evidence; the polarity kappa is Cohen's on finding /
    /// supports over the passages both call evidence.
    /// </summary>
    public static LabelAgreement Compare(TrainingCorpus first, TrainingCorpus second)
    {
        ArgumentNullException.ThrowIfNull(first);
        ArgumentNullException.ThrowIfNull(second);
        var byFile = second.Documents.ToDictionary(d => d.Labels.File, StringComparer.Ordinal);
        int n = 0, bothYes = 0, firstYes = 0, secondYes = 0, agreeEvidence = 0, docTypes = 0;
        int polarityN = 0, polarityAgree = 0, firstFinding = 0, secondFinding = 0;
        double predicted = 0, predictedRight = 0, reference = 0, referenceFound = 0, strictTp = 0, strictA = 0, strictB = 0;
        foreach (var a in first.Documents)
        {
            if (!byFile.TryGetValue(a.Labels.File, out var b))
            {
                continue;
            }

            docTypes += a.Labels.DocType == b.Labels.DocType || a.Labels.DocTypeAlt.Contains(b.Labels.DocType) || b.Labels.DocTypeAlt.Contains(a.Labels.DocType) ? 1 : 0;
            for (var i = 0; i < Math.Min(a.Passages.Count, b.Passages.Count); i++)
            {
                if (a.PassageLabels[i] is not { } la || b.PassageLabels[i] is not { } lb)
                {
                    continue;
                }

                n++;
                firstYes += la.IsEvidence ? 1 : 0;
                secondYes += lb.IsEvidence ? 1 : 0;
                bothYes += la.IsEvidence && lb.IsEvidence ? 1 : 0;
                agreeEvidence += la.IsEvidence == lb.IsEvidence ? 1 : 0;
                predicted += lb.Controls.Count;
                predictedRight += lb.Controls.Count(c => la.Controls.Concat(la.Also).Any(x => IsoCatalog.Equivalent(x, c)));
                reference += la.Controls.Count;
                referenceFound += la.Controls.Count(c => lb.Controls.Concat(lb.Also).Any(x => IsoCatalog.Equivalent(x, c)));
                strictA += la.Controls.Count;
                strictB += lb.Controls.Count;
                strictTp += la.Controls.Count(c => lb.Controls.Any(x => IsoCatalog.Equivalent(x, c)));
                if (la.IsEvidence && lb.IsEvidence)
                {
                    polarityN++;
                    polarityAgree += la.Finding == lb.Finding ? 1 : 0;
                    firstFinding += la.Finding ? 1 : 0;
                    secondFinding += lb.Finding ? 1 : 0;
                }
            }
        }

        var precision = predicted == 0 ? 0 : predictedRight / predicted;
        var recall = reference == 0 ? 0 : referenceFound / reference;
        var f1 = precision + recall == 0 ? 0 : 2 * precision * recall / (precision + recall);
        var strict = strictA + strictB == 0 ? 0 : 2 * strictTp / (strictA + strictB);
        var (observed, kappa) = Cohen(n, agreeEvidence, firstYes, secondYes);
        var (polarityObserved, polarityKappa) = Cohen(polarityN, polarityAgree, firstFinding, secondFinding);
        return new LabelAgreement(n, precision, recall, f1, strict, observed, kappa, docTypes)
        {
            PolarityPassages = polarityN,
            PolarityObserved = polarityObserved,
            PolarityKappa = polarityKappa,
            PolarityFindings = (firstFinding, secondFinding),
        };
    }

    /// <summary>Observed agreement and Cohen's kappa of two binary labellings of n items.</summary>
    private static (double Observed, double Kappa) Cohen(int n, int agree, int firstYes, int secondYes)
    {
        if (n == 0)
        {
            return (0, 0);
        }

        var observed = agree / (double)n;
        var pa = firstYes / (double)n;
        var pb = secondYes / (double)n;
        var expected = (pa * pb) + ((1 - pa) * (1 - pb));
        return (observed, expected >= 1 ? 1 : (observed - expected) / (1 - expected));
    }
}
