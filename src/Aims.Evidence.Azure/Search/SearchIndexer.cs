using Aims.Evidence.Core.Storage;
using Microsoft.Extensions.AI;

namespace Aims.Evidence.Azure.Search;

/// <summary>What one <see cref="SearchIndexer.IndexAsync"/> call did.</summary>
public sealed record SearchIndexResult(int Uploaded, int Superseded);

/// <summary>
/// Copies a stored document version into Azure AI Search after the evidence store committed it: the version's
/// passages (text, headings, a vector from the configured embedding generator, the control ids of their mappings,
/// document type, status and dates) are uploaded in batches with merge-or-upload under keys derived from the passage
/// ids, so a repeated call writes the same documents again and adds none; then every older version of the same name
/// is marked not current. The store stays the system of record: the index can always be rebuilt from it.
/// </summary>
public sealed class SearchIndexer
{
    private readonly IEvidenceStore _store;
    private readonly AzureAiSearchPassageIndex _index;
    private readonly IEmbeddingGenerator<string, Embedding<float>>? _generator;
    private readonly int _dimensions;
    private readonly Lock _schemaLock = new();
    private Task? _schema;

    /// <param name="store">The evidence store the pipeline wrote to.</param>
    /// <param name="index">The AI Search index adapter.</param>
    /// <param name="generator">Embeds passages for the vector field; null uploads text only (keyword search).</param>
    /// <param name="dimensions">Vector length the index was created with; a generator returning another length is an error.</param>
    public SearchIndexer(IEvidenceStore store, AzureAiSearchPassageIndex index, IEmbeddingGenerator<string, Embedding<float>>? generator, int dimensions)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(index);
        ArgumentOutOfRangeException.ThrowIfLessThan(dimensions, 1);
        _store = store;
        _index = index;
        _generator = generator;
        _dimensions = dimensions;
    }

    /// <summary>Passages embedded per generator call.</summary>
    public int EmbeddingBatchSize { get; init; } = 64;

    /// <summary>The text embedded for a passage: its headings, then its text (the query side embeds the query alone).</summary>
    public static string EmbeddingText(PassageRecord passage)
    {
        ArgumentNullException.ThrowIfNull(passage);
        return passage.Headings.Count == 0 ? passage.Text : string.Join(" > ", passage.Headings) + "\n" + passage.Text;
    }

    /// <summary>Indexes one processed document version and supersedes its older versions. Idempotent.</summary>
    public async Task<SearchIndexResult> IndexAsync(DocumentRecord document, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(document);
        if (document.Status != DocumentStatus.Processed)
        {
            return new SearchIndexResult(0, 0);
        }

        await EnsureSchemaAsync(cancellationToken).ConfigureAwait(false);
        var passages = await _store.GetPassagesAsync(document.Id, cancellationToken).ConfigureAwait(false);
        var vectors = await EmbedAsync(passages, cancellationToken).ConfigureAwait(false);
        var uploaded = passages.Count == 0 ? 0 : await _index.IndexDocumentAsync(document, passages, vectors, cancellationToken).ConfigureAwait(false);

        var older = new List<string>();
        if (document.IsCurrent)
        {
            foreach (var version in await _store.GetVersionsAsync(document.Name, cancellationToken).ConfigureAwait(false))
            {
                if (version.Id != document.Id && !version.IsCurrent && version.Status == DocumentStatus.Processed)
                {
                    older.AddRange((await _store.GetPassagesAsync(version.Id, cancellationToken).ConfigureAwait(false)).Select(p => p.Passage.Id));
                }
            }
        }

        var superseded = older.Count == 0 ? 0 : await _index.MarkSupersededAsync(older, cancellationToken).ConfigureAwait(false);
        return new SearchIndexResult(uploaded, superseded);
    }

    /// <summary>
    /// Re-uploads one passage after a reviewer changed its mappings: control ids and mappings JSON follow the store;
    /// the vector is not sent, so the merge keeps the one already indexed. Returns false when the passage is unknown.
    /// </summary>
    public async Task<bool> RefreshPassageAsync(string documentId, string passageId, CancellationToken cancellationToken = default)
    {
        var document = await _store.GetDocumentAsync(documentId, cancellationToken).ConfigureAwait(false);
        if (document is null || document.Status != DocumentStatus.Processed)
        {
            return false;
        }

        var passage = (await _store.GetPassagesAsync(documentId, cancellationToken).ConfigureAwait(false))
            .FirstOrDefault(p => string.Equals(p.Passage.Id, passageId, StringComparison.Ordinal));
        if (passage is null)
        {
            return false;
        }

        await EnsureSchemaAsync(cancellationToken).ConfigureAwait(false);
        await _index.IndexDocumentAsync(document, [passage], vectors: null, cancellationToken).ConfigureAwait(false);
        return true;
    }

    /// <summary>
    /// Refreshes every passage of a document in the index from the store after a change of the document's own fields
    /// (its effective date): a merge without vectors, so the indexed vectors stay. Returns false when the document is
    /// unknown or not processed.
    /// </summary>
    public async Task<bool> RefreshDocumentAsync(string documentId, CancellationToken cancellationToken = default)
    {
        var document = await _store.GetDocumentAsync(documentId, cancellationToken).ConfigureAwait(false);
        if (document is null || document.Status != DocumentStatus.Processed)
        {
            return false;
        }

        var passages = await _store.GetPassagesAsync(documentId, cancellationToken).ConfigureAwait(false);
        if (passages.Count == 0)
        {
            return true;
        }

        await EnsureSchemaAsync(cancellationToken).ConfigureAwait(false);
        await _index.IndexDocumentAsync(document, passages, vectors: null, cancellationToken).ConfigureAwait(false);
        return true;
    }

    /// <summary>The query vector for hybrid search, or null without a generator.</summary>
    public Task<ReadOnlyMemory<float>?> EmbedQueryAsync(string text, CancellationToken cancellationToken = default) =>
        EmbedQueryAsync(_generator, _dimensions, text, cancellationToken);

    /// <summary>Embeds a search query with the passages' generator, checking the vector fits the index.</summary>
    public static async Task<ReadOnlyMemory<float>?> EmbedQueryAsync(
        IEmbeddingGenerator<string, Embedding<float>>? generator, int dimensions, string text, CancellationToken cancellationToken = default)
    {
        if (generator is null || string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        var embeddings = await generator.GenerateAsync([text], cancellationToken: cancellationToken).ConfigureAwait(false);
        return Checked(embeddings[0].Vector, dimensions);
    }

    private async Task<IReadOnlyDictionary<string, ReadOnlyMemory<float>>?> EmbedAsync(IReadOnlyList<PassageWithMappings> passages, CancellationToken cancellationToken)
    {
        if (_generator is null || passages.Count == 0)
        {
            return null;
        }

        var vectors = new Dictionary<string, ReadOnlyMemory<float>>(passages.Count, StringComparer.Ordinal);
        foreach (var batch in passages.Chunk(Math.Max(1, EmbeddingBatchSize)))
        {
            var embeddings = await _generator.GenerateAsync(batch.Select(p => EmbeddingText(p.Passage)), cancellationToken: cancellationToken).ConfigureAwait(false);
            if (embeddings.Count != batch.Length)
            {
                throw new InvalidOperationException($"the embedding generator returned {embeddings.Count} vectors for {batch.Length} passages");
            }

            for (var i = 0; i < batch.Length; i++)
            {
                vectors[batch[i].Passage.Id] = Checked(embeddings[i].Vector, _dimensions);
            }
        }

        return vectors;
    }

    private static ReadOnlyMemory<float> Checked(ReadOnlyMemory<float> vector, int dimensions) => vector.Length == dimensions
        ? vector
        : throw new InvalidOperationException(
            $"the embedding model returns {vector.Length} dimensions but the index vector field has {dimensions}; set Aims:Llm:EmbeddingsDimensions to the model's length");

    /// <summary>Creates or updates the index schema once per instance; a failed attempt is tried again on the next call.</summary>
    private Task EnsureSchemaAsync(CancellationToken cancellationToken)
    {
        lock (_schemaLock)
        {
            if (_schema is null || _schema.IsFaulted || _schema.IsCanceled)
            {
                _schema = _index.EnsureIndexAsync(CancellationToken.None);
            }

            return _schema.WaitAsync(cancellationToken);
        }
    }
}
