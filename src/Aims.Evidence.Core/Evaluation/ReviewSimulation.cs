using Aims.Evidence.Core.Catalog;
using Aims.Evidence.Core.Lexical;
using Aims.Evidence.Core.Mapping;
using Aims.Evidence.Core.Storage;

namespace Aims.Evidence.Core.Evaluation;

/// <summary>The decisions a reviewer who knew the gold labels would make on one document.</summary>
public sealed record SimulatedReview(
    IReadOnlyList<(string MappingId, ReviewState State)> Reviews,
    IReadOnlyList<(string PassageId, string ControlId)> Added);

/// <summary>
/// Treats the gold labels of some documents as review decisions (<c>aims eval --review-fraction</c>): for every gold
/// quote matched to a stored passage (the evaluation's own matching), each suggestion is accepted when it is a gold
/// control or an "also" id (or an equivalent id) and rejected otherwise; each primary gold control no suggestion
/// names is added by hand. Passages no quote matches get no decision, as in a partial review.
/// </summary>
public static class ReviewSimulation
{
    public const string Actor = "eval-review-simulation";

    /// <summary>The documents whose labels become reviews: a seeded shuffle, the first round(fraction × n), at least one.</summary>
    public static IReadOnlyList<GoldDocument> Pick(IReadOnlyList<GoldDocument> gold, double fraction, int seed)
    {
        ArgumentNullException.ThrowIfNull(gold);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(fraction);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(fraction, 1);
        var order = gold.OrderBy(d => d.File, StringComparer.Ordinal).ToArray();
        new Random(seed).Shuffle(order);
        return order.Take(Math.Max(1, (int)Math.Round(fraction * order.Length, MidpointRounding.AwayFromZero))).ToArray();
    }

    public static SimulatedReview FromGold(GoldDocument gold, IReadOnlyList<PassageWithMappings> passages)
    {
        ArgumentNullException.ThrowIfNull(gold);
        ArgumentNullException.ThrowIfNull(passages);
        var ordered = passages.OrderBy(p => p.Passage.Ordinal).ToArray();
        var normalized = ordered.Select(p => Tokenizer.Normalize(p.Passage.Text)).ToArray();
        var reviews = new Dictionary<string, ReviewState>(StringComparer.Ordinal);
        var added = new HashSet<(string, string)>();
        foreach (var gp in gold.Passages)
        {
            if (Evaluator.MatchQuote(gp.Quote, normalized).PassageIndex is not { } i)
            {
                continue;
            }

            var (passage, mappings) = ordered[i];
            var allowed = gp.Controls.Concat(gp.Also).ToArray();
            foreach (var m in mappings.Where(m => m.Method != MappingMethods.Manual))
            {
                var right = allowed.Any(a => IsoCatalog.Equivalent(m.ControlId, a));
                // A passage matched by several quotes: any quote that allows the entry accepts it.
                if (right || !reviews.ContainsKey(m.Id))
                {
                    reviews[m.Id] = right ? ReviewState.Accepted : ReviewState.Rejected;
                }
            }

            foreach (var control in gp.Controls.Where(c => !mappings.Any(m => IsoCatalog.Equivalent(m.ControlId, c))))
            {
                added.Add((passage.Id, control));
            }
        }

        return new SimulatedReview([.. reviews.Select(kv => (kv.Key, kv.Value))], [.. added]);
    }

    /// <summary>Records the decisions through the store's reviewer operations (audited like any review).</summary>
    public static async Task ApplyAsync(IReviewStore store, SimulatedReview review, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(review);
        foreach (var (id, state) in review.Reviews)
        {
            await store.ReviewMappingAsync(id, state, Actor, "simulated from gold labels", cancellationToken).ConfigureAwait(false);
        }

        foreach (var (passage, control) in review.Added)
        {
            await store.AddManualMappingAsync(passage, control, "simulated from gold labels", Actor, MappingPolarity.Supports, cancellationToken).ConfigureAwait(false);
        }
    }
}
