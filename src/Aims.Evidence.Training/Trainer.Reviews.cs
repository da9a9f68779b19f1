using System.Globalization;
using Aims.Evidence.Core.Catalog;
using Aims.Evidence.Core.Mapping;
using Aims.Evidence.Core.Mapping.Feedback;

namespace Aims.Evidence.Training;

public sealed partial class Trainer
{
    /// <summary>Draws of reviewed documents per setting.</summary>
    private const int ReviewDraws = 5;

    /// <summary>
    /// Reviews teach the mapper, out of fold: per draw, the labels of a share of the documents become review decisions
    /// (suggestions accepted when right and rejected when wrong, primary controls no suggestion names added by hand),
    /// and every passage of the other documents is re-scored from its out-of-fold candidates. Returns the mean passage
    /// F1 and null false-positive rate of the other documents before and after, per setting.
    /// </summary>
    private static Dictionary<string, double> SimulateReviews(double[][] p, List<Item> items, IReadOnlyList<TrainingDocument> docs, string[] entryIds, double threshold, TrainOptions options, Action<string> log)
    {
        var catalog = IsoCatalog.Default;
        var result = new Dictionary<string, double>(StringComparer.Ordinal);
        for (var s = 0; s < options.ReviewSettings.Count; s++)
        {
            var settings = options.ReviewSettings[s];
            double f1Before = 0, f1After = 0, nullBefore = 0, nullAfter = 0;
            for (var draw = 0; draw < ReviewDraws; draw++)
            {
                var order = docs.Select(d => d.Index).ToArray();
                new Random(options.Seed + draw).Shuffle(order);
                var reviewed = order.Take(Math.Max(1, (int)Math.Round(options.ReviewFraction * order.Length))).ToHashSet();
                var decisions = new List<ReviewDecision>();
                var rest = new List<int>();
                for (var i = 0; i < items.Count; i++)
                {
                    if (!reviewed.Contains(items[i].Doc))
                    {
                        rest.Add(i);
                        continue;
                    }

                    var doc = docs[items[i].Doc];
                    var passage = doc.Passages[items[i].PassageIndex];
                    var id = $"{doc.Index}-{items[i].PassageIndex}";
                    var suggested = Top(p[i], threshold, options.MaxSuggestions).Select(e => entryIds[e]).ToArray();
                    foreach (var e in suggested)
                    {
                        decisions.Add(new ReviewDecision(id, doc.Labels.File, passage.Page, passage.Headings, passage.Text, e, Right(e, items[i].Label)));
                    }

                    foreach (var c in items[i].Label.Controls.Where(c => !suggested.Any(x => IsoCatalog.Equivalent(x, c))))
                    {
                        decisions.Add(new ReviewDecision(id, doc.Labels.File, passage.Page, passage.Headings, passage.Text, c, true) { Manual = true });
                    }
                }

                var memory = ReviewMemory.Build(decisions, settings);
                var restItems = rest.Select(i => items[i]).ToList();
                var before = rest.Select(i => p[i]).ToArray();
                var after = rest.Select(i =>
                {
                    var passage = docs[items[i].Doc].Passages[items[i].PassageIndex];
                    var candidates = new PassageCandidates
                    {
                        Threshold = threshold,
                        MaxSuggestions = options.MaxSuggestions,
                        Method = MappingMethods.Trained,
                        Entries = [.. Enumerable.Range(0, entryIds.Length).Where(e => p[i][e] >= PassageCandidates.Floor).OrderByDescending(e => p[i][e]).Take(PassageCandidates.Kept).Select(e => new EntryScore(entryIds[e], p[i][e]))],
                    };
                    var original = candidates.Select(candidates.Entries).Select(c => new MappingSuggestion(c.ControlId, c.Probability, MappingMethods.Trained, string.Empty)).ToArray();
                    var row = new double[entryIds.Length];
                    foreach (var suggestion in memory.Apply(passage.Headings, passage.Text, candidates, original, catalog))
                    {
                        row[Array.IndexOf(entryIds, suggestion.ControlId)] = Math.Max(suggestion.Score, threshold);
                    }

                    return row;
                }).ToArray();
                var (rb, pb, nb) = PassageScores(before, restItems, entryIds, threshold, options.MaxSuggestions);
                var (ra, pa, na) = PassageScores(after, restItems, entryIds, threshold, options.MaxSuggestions);
                f1Before += F1(rb, pb) / ReviewDraws;
                f1After += F1(ra, pa) / ReviewDraws;
                nullBefore += nb / ReviewDraws;
                nullAfter += na / ReviewDraws;
            }

            log(string.Create(CultureInfo.InvariantCulture, $"reviews {s} ({settings}): passage_f1 {f1Before:0.000} -> {f1After:0.000} ({f1After - f1Before:+0.000;-0.000}), null_fpr {nullBefore:0.000} -> {nullAfter:0.000}"));
            var prefix = s == 0 ? "review" : $"review{s}";
            result[$"{prefix}_f1_before"] = Math.Round(f1Before, 4);
            result[$"{prefix}_f1_after"] = Math.Round(f1After, 4);
            result[$"{prefix}_null_fpr_after"] = Math.Round(nullAfter, 4);
        }

        return result;

        static IEnumerable<int> Top(double[] row, double threshold, int max) =>
            Enumerable.Range(0, row.Length).Where(e => row[e] >= threshold).OrderByDescending(e => row[e]).Take(max);

        static double F1(double r, double p) => r + p == 0 ? 0 : 2 * r * p / (r + p);
    }
}
