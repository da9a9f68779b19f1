namespace Aims.Evidence.Core.Evaluation;

/// <summary>A judged span of a document: finding or supports.</summary>
public sealed record PolarityLabel(int Start, int Length, bool Finding);

/// <summary>A stored passage with the polarity the system decided for it (null: it decided none, e.g. no mapper kept a probability).</summary>
public sealed record PolarityPrediction(int Start, int Length, bool? Finding);

/// <summary>Polarity against judged spans: how many judged passages, and the counts behind precision and recall of the finding class.</summary>
public sealed record PolarityCounts(int Passages, int Findings, int TruePositives, int FalsePositives, int Undecided)
{
    public double Precision => TruePositives + FalsePositives == 0 ? 0 : TruePositives / (double)(TruePositives + FalsePositives);

    public double Recall => Findings == 0 ? 0 : TruePositives / (double)Findings;

    /// <summary>The counts over several sets of passages (each passage counts once, so counts add up).</summary>
    public static PolarityCounts Sum(IEnumerable<PolarityCounts> parts)
    {
        ArgumentNullException.ThrowIfNull(parts);
        return parts.Aggregate(new PolarityCounts(0, 0, 0, 0, 0), (a, b) => new PolarityCounts(a.Passages + b.Passages, a.Findings + b.Findings, a.TruePositives + b.TruePositives, a.FalsePositives + b.FalsePositives, a.Undecided + b.Undecided));
    }
}

/// <summary>
/// Measures the stored polarity of passages against judged spans (<c>aims eval --polarity FILE</c>): each passage takes
/// the judged span it overlaps most, when that covers at least half of the passage (as training labels find passages),
/// so the judgments survive re-segmentation.
/// </summary>
public static class PolarityEvaluation
{
    /// <summary>
    /// The polarity the system decided for one stored passage: when the LLM judge mapped it, a finding when one of the
    /// judge's mappings is a finding (the judge decides polarity per entry); otherwise the trained polarity model's kept
    /// probability against its threshold; without one, whether a mapping of it is a finding; null when nothing decided.
    /// </summary>
    public static bool? Decided(bool? keptFinding, IReadOnlyList<(string Method, Mapping.MappingPolarity Polarity)> mappings)
    {
        ArgumentNullException.ThrowIfNull(mappings);
        var judged = mappings.Where(m => m.Method == Mapping.MappingMethods.Llm).ToArray();
        return judged.Length > 0 ? judged.Any(m => m.Polarity == Mapping.MappingPolarity.Finding)
            : keptFinding ?? (mappings.Count > 0 ? mappings.Any(m => m.Polarity == Mapping.MappingPolarity.Finding) : null);
    }

    public static PolarityCounts Score(IEnumerable<(IReadOnlyList<PolarityLabel> Labels, IReadOnlyList<PolarityPrediction> Passages)> documents)
    {
        ArgumentNullException.ThrowIfNull(documents);
        int passages = 0, findings = 0, tp = 0, fp = 0, undecided = 0;
        foreach (var (labels, produced) in documents)
        {
            foreach (var p in produced)
            {
                PolarityLabel? best = null;
                var bestOverlap = 0;
                foreach (var l in labels)
                {
                    var overlap = Math.Min(p.Start + p.Length, l.Start + l.Length) - Math.Max(p.Start, l.Start);
                    if (overlap > bestOverlap)
                    {
                        (best, bestOverlap) = (l, overlap);
                    }
                }

                if (best is null || bestOverlap * 2 < Math.Max(1, p.Length))
                {
                    continue;
                }

                passages++;
                findings += best.Finding ? 1 : 0;
                undecided += p.Finding is null ? 1 : 0;
                tp += best.Finding && p.Finding == true ? 1 : 0;
                fp += !best.Finding && p.Finding == true ? 1 : 0;
            }
        }

        return new PolarityCounts(passages, findings, tp, fp, undecided);
    }
}
