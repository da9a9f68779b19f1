using Aims.Evidence.Core.Lexical;

namespace Aims.Evidence.Core.Storage;

/// <summary>
/// <see cref="IPassageIndex"/> over any <see cref="IEvidenceStore"/> without a search engine: reads the passages of
/// the current, processed documents and ranks them with BM25 (the same tokenizer as control mapping). Every query
/// reads the whole corpus, so it suits the small document sets of one organisation's AIMS, not millions of
/// passages; a store with its own full-text index (SQLite FTS5) or Azure AI Search should be preferred when it holds
/// the passages.
/// </summary>
public sealed class StorePassageIndex(IEvidenceStore store) : IPassageIndex
{
    public async Task<IReadOnlyList<SearchHit>> SearchAsync(SearchQuery query, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        var terms = Tokenizer.Tokens(query.Text);
        if (terms.Count == 0)
        {
            return [];
        }

        var candidates = new List<(DocumentRecord Document, PassageWithMappings Passage)>();
        var documents = await store.ListDocumentsAsync(includeSuperseded: false, cancellationToken).ConfigureAwait(false);
        foreach (var document in documents.Where(d => d.IsCurrent && d.Status == DocumentStatus.Processed).OrderBy(d => d.Name, StringComparer.Ordinal))
        {
            if (!string.IsNullOrWhiteSpace(query.DocType) && !string.Equals(document.DocType, query.DocType, StringComparison.Ordinal))
            {
                continue;
            }

            foreach (var passage in await store.GetPassagesAsync(document.Id, cancellationToken).ConfigureAwait(false))
            {
                candidates.Add((document, passage));
            }
        }

        // IDF comes from every candidate passage; the control filter applies to the ranked result, as in the SQLite index.
        var bm25 = new Bm25Index();
        foreach (var (_, passage) in candidates)
        {
            bm25.Add(Tokenizer.Tokens(passage.Passage.Text));
        }

        var (scores, _) = bm25.Score(terms);
        return candidates
            .Select((c, i) => (c.Document, c.Passage, Score: scores[i], Order: i))
            .Where(h => h.Score > 0)
            .Where(h => string.IsNullOrWhiteSpace(query.ControlId)
                || h.Passage.Mappings.Any(m => m.Review != ReviewState.Rejected && string.Equals(m.ControlId, query.ControlId, StringComparison.Ordinal)))
            .OrderByDescending(h => h.Score).ThenBy(h => h.Order)
            .Take(Math.Clamp(query.Limit, 1, 200))
            .Select(h => new SearchHit(h.Document, h.Passage.Passage, Math.Round(h.Score, 4), h.Passage.Mappings.Where(m => m.Review != ReviewState.Rejected).OrderByDescending(m => m.Score).ToArray()))
            .ToArray();
    }
}
