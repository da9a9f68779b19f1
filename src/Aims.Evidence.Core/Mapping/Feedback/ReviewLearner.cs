using Aims.Evidence.Core.Catalog;
using Aims.Evidence.Core.Storage;

namespace Aims.Evidence.Core.Mapping.Feedback;

/// <summary>What one re-scoring did.</summary>
public sealed record RescoreResult(int Decisions, int PassagesScored, int PassagesChanged)
{
    /// <summary>Ids of the passages whose suggestions changed.</summary>
    public IReadOnlyList<string> Changed { get; init; } = [];
}

/// <summary>
/// Re-scores the unreviewed suggestions of every current passage that kept its candidates, with every review decision
/// of the store (<see cref="ReviewMemory"/>): what reviewers accept, reject or add by hand moves the suggestions of
/// similar passages, and of the same entry everywhere. Reviewed and manual mappings are never touched; an entry
/// already decided on a passage is not suggested there again. Idempotent: running it twice changes nothing more.
/// </summary>
public sealed class ReviewLearner(IEvidenceStore store, IReviewStore reviews, IsoCatalog catalog, IReviewRescorer? rescorer = null)
{
    public async Task<RescoreResult> RescoreAsync(CancellationToken cancellationToken = default)
    {
        var decisions = await reviews.ListReviewDecisionsAsync(cancellationToken).ConfigureAwait(false);
        var memory = ReviewMemory.Build(decisions);
        var reviewed = rescorer?.Learn(decisions);
        var changes = new List<(string, IReadOnlyList<MappingSuggestion>)>();
        var scored = 0;
        foreach (var document in await store.ListDocumentsAsync(false, cancellationToken).ConfigureAwait(false))
        {
            if (document.Status != DocumentStatus.Processed)
            {
                continue;
            }

            var rows = (await store.GetPassagesAsync(document.Id, cancellationToken).ConfigureAwait(false)).OrderBy(r => r.Passage.Ordinal).ToArray();
            var rescored = reviewed is null
                ? rows.Select(r => r.Passage.Candidates).ToArray()
                : rescorer!.Rescore([.. rows.Select(r => r.Passage.ToPassage())], [.. rows.Select(r => r.Passage.Candidates)], reviewed);
            for (var i = 0; i < rows.Length; i++)
            {
                var row = rows[i];
                cancellationToken.ThrowIfCancellationRequested();
                if (rescored[i] is not { } candidates)
                {
                    continue;
                }

                scored++;
                var open = row.Mappings.Where(m => m.Review == ReviewState.Unreviewed && m.Method != MappingMethods.Manual).ToArray();
                var decided = row.Mappings.Where(m => m.Review != ReviewState.Unreviewed || m.Method == MappingMethods.Manual)
                    .Select(m => m.ControlId).ToHashSet(StringComparer.Ordinal);
                var current = open.Select(m => new MappingSuggestion(m.ControlId, m.Score, m.Method, m.Rationale)
                {
                    Model = m.Model,
                    PromptVersion = m.PromptVersion,
                    Polarity = m.Polarity,
                }).ToArray();
                var next = memory.Apply(row.Passage.Headings, row.Passage.Text, candidates, current, catalog)
                    .Where(s => !decided.Contains(s.ControlId)).ToArray();
                if (!Same(current, next))
                {
                    changes.Add((row.Passage.Id, next));
                }
            }
        }

        var changed = changes.Count == 0 ? 0 : await reviews.ReplaceSuggestionsAsync(changes, catalog.Version, cancellationToken).ConfigureAwait(false);
        return new RescoreResult(decisions.Count, scored, changed) { Changed = [.. changes.Select(c => c.Item1)] };
    }

    private static bool Same(MappingSuggestion[] a, MappingSuggestion[] b) =>
        a.Length == b.Length && a.OrderBy(x => x.ControlId, StringComparer.Ordinal).Zip(b.OrderBy(x => x.ControlId, StringComparer.Ordinal))
            .All(p => p.First.ControlId == p.Second.ControlId && Math.Abs(p.First.Score - p.Second.Score) < 1e-4 && p.First.Polarity == p.Second.Polarity);
}
