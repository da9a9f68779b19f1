using System.Text;
using System.Text.Json;
using Aims.Evidence.Core.Storage;
using Azure;
using Azure.Search.Documents;
using Azure.Search.Documents.Indexes;
using Azure.Search.Documents.Indexes.Models;
using Azure.Search.Documents.Models;

namespace Aims.Evidence.Azure.Search;

/// <summary>Settings of <see cref="AzureAiSearchPassageIndex"/>.</summary>
public sealed record AzureAiSearchOptions
{
    public string IndexName { get; init; } = "aims-passages";

    /// <summary>Dimensions of the passage vectors; all-MiniLM-L6-v2 gives 384.</summary>
    public int VectorDimensions { get; init; } = 384;

    /// <summary>
    /// Adds a semantic configuration (title: document name, content: text, keywords: headings) and asks for semantic
    /// ranking in every text query (the service's semantic ranker must be enabled on the search service).
    /// </summary>
    public bool UseSemanticRanker { get; init; }

    /// <summary>Documents per indexing request (the service accepts at most 1000).</summary>
    public int BatchSize { get; init; } = 1000;

    /// <summary>Bound of an indexing request's serialized body, in bytes (the service accepts at most 16 MB).</summary>
    public long MaxBatchBytes { get; init; } = 12L * 1024 * 1024;
}

/// <summary>
/// <see cref="IPassageIndex"/> on Azure AI Search: creates or updates the index schema, uploads passages in
/// batches and answers hybrid queries (BM25 over the text plus, when a query vector is available, an HNSW
/// vector query, fused by the service with reciprocal rank fusion), filtered by control and document type.
/// Only current versions are returned.
/// </summary>
public sealed class AzureAiSearchPassageIndex : IPassageIndex
{
    public const string VectorProfileName = "aims-hnsw-profile";
    public const string VectorAlgorithmName = "aims-hnsw";
    public const string SemanticConfigurationName = "aims-semantic";

    // Mappings are stored in the index as JSON with enums by name, so reordering an enum never changes stored hits
    // (numbers written by earlier versions are still read).
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
    };

    // What the SDK writes for a typed document (its default serializer: default options, so every non-ASCII character
    // becomes a six-byte \uXXXX escape); used to measure a batch before sending it.
    private static readonly JsonSerializerOptions SdkJson = new();

    /// <summary>Bytes of the request envelope and of each action's "@search.action" member and separators.</summary>
    private const int EnvelopeBytes = 16;
    private const int ActionBytes = 40;

    private static readonly string[] SelectFields =
    [
        "id", "passageId", "documentId", "documentName", "sha256", "docType", "status", "version", "isCurrent",
        "text", "headings", "page", "ordinal", "start", "length", "kind", "controlIds", "mappingsJson",
        "ingestedAt", "effectiveDate", "pageCount", "statedDate", "statedDateSource", "rowStart", "rowEnd",
    ];

    private readonly SearchIndexClient _indexClient;
    private readonly SearchClient _searchClient;
    private readonly AzureAiSearchOptions _options;
    private readonly Func<string, CancellationToken, Task<ReadOnlyMemory<float>?>>? _embedQuery;

    /// <param name="indexClient">A client for the service (identity or key credential).</param>
    /// <param name="options">Index name, vector dimensions, batching.</param>
    /// <param name="embedQuery">Optional query embedder: when given, <see cref="SearchAsync(SearchQuery, CancellationToken)"/> runs hybrid.</param>
    public AzureAiSearchPassageIndex(
        SearchIndexClient indexClient,
        AzureAiSearchOptions? options = null,
        Func<string, CancellationToken, Task<ReadOnlyMemory<float>?>>? embedQuery = null)
    {
        ArgumentNullException.ThrowIfNull(indexClient);
        _indexClient = indexClient;
        _options = options ?? new AzureAiSearchOptions();
        _searchClient = indexClient.GetSearchClient(_options.IndexName);
        _embedQuery = embedQuery;
    }

    /// <summary>The index definition this adapter writes.</summary>
    public SearchIndex BuildIndexDefinition()
    {
        var index = new SearchIndex(_options.IndexName)
        {
            Fields =
            {
                new SimpleField("id", SearchFieldDataType.String) { IsKey = true, IsFilterable = true },
                new SimpleField("passageId", SearchFieldDataType.String) { IsFilterable = true },
                new SimpleField("documentId", SearchFieldDataType.String) { IsFilterable = true, IsFacetable = true },
                new SearchableField("documentName") { IsFilterable = true, IsSortable = true },
                new SimpleField("sha256", SearchFieldDataType.String) { IsFilterable = true },
                new SimpleField("docType", SearchFieldDataType.String) { IsFilterable = true, IsFacetable = true },
                new SimpleField("status", SearchFieldDataType.String) { IsFilterable = true, IsFacetable = true },
                new SimpleField("version", SearchFieldDataType.Int32) { IsFilterable = true, IsSortable = true },
                new SimpleField("isCurrent", SearchFieldDataType.Boolean) { IsFilterable = true, IsFacetable = true },
                new SearchableField("text") { AnalyzerName = LexicalAnalyzerName.EnMicrosoft },
                new SearchableField("headings", collection: true) { AnalyzerName = LexicalAnalyzerName.EnMicrosoft },
                new SimpleField("page", SearchFieldDataType.Int32) { IsFilterable = true, IsSortable = true },
                new SimpleField("ordinal", SearchFieldDataType.Int32) { IsSortable = true },
                new SimpleField("start", SearchFieldDataType.Int32),
                new SimpleField("length", SearchFieldDataType.Int32),
                new SimpleField("kind", SearchFieldDataType.String) { IsFilterable = true },
                new SimpleField("controlIds", SearchFieldDataType.Collection(SearchFieldDataType.String)) { IsFilterable = true, IsFacetable = true },
                new SimpleField("mappingsJson", SearchFieldDataType.String),
                new SimpleField("ingestedAt", SearchFieldDataType.DateTimeOffset) { IsFilterable = true, IsSortable = true },
                new SimpleField("effectiveDate", SearchFieldDataType.DateTimeOffset) { IsFilterable = true, IsSortable = true },
                new SimpleField("pageCount", SearchFieldDataType.Int32),
                new SimpleField("statedDate", SearchFieldDataType.DateTimeOffset) { IsFilterable = true, IsSortable = true },
                new SimpleField("statedDateSource", SearchFieldDataType.String),
                new SimpleField("rowStart", SearchFieldDataType.Int32),
                new SimpleField("rowEnd", SearchFieldDataType.Int32),
                new VectorSearchField("vector", _options.VectorDimensions, VectorProfileName) { IsHidden = true },
            },
            VectorSearch = new VectorSearch
            {
                Algorithms =
                {
                    new HnswAlgorithmConfiguration(VectorAlgorithmName)
                    {
                        Parameters = new HnswParameters { M = 4, EfConstruction = 400, EfSearch = 500, Metric = VectorSearchAlgorithmMetric.Cosine },
                    },
                },
                Profiles = { new VectorSearchProfile(VectorProfileName, VectorAlgorithmName) },
            },
        };

        if (_options.UseSemanticRanker)
        {
            var fields = new SemanticPrioritizedFields { TitleField = new SemanticField("documentName") };
            fields.ContentFields.Add(new SemanticField("text"));
            fields.KeywordsFields.Add(new SemanticField("headings"));
            index.SemanticSearch = new SemanticSearch { Configurations = { new SemanticConfiguration(SemanticConfigurationName, fields) } };
        }

        return index;
    }

    /// <summary>Creates the index or updates its schema (additive changes). Idempotent.</summary>
    public async Task EnsureIndexAsync(CancellationToken cancellationToken = default) =>
        await _indexClient.CreateOrUpdateIndexAsync(BuildIndexDefinition(), cancellationToken: cancellationToken).ConfigureAwait(false);

    /// <summary>
    /// Uploads (merge-or-upload) one document version's passages, with vectors keyed by passage id where
    /// available, in batches of at most <see cref="AzureAiSearchOptions.BatchSize"/>. Returns the count indexed.
    /// </summary>
    public async Task<int> IndexDocumentAsync(
        DocumentRecord document,
        IReadOnlyList<PassageWithMappings> passages,
        IReadOnlyDictionary<string, ReadOnlyMemory<float>>? vectors = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(document);
        ArgumentNullException.ThrowIfNull(passages);
        var docs = passages.Select(p => ToSearchDocument(document, p, vectors)).ToList();
        return await UploadAsync(docs, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Uploads prepared index documents in size-bounded batches.</summary>
    public async Task<int> UploadAsync(IReadOnlyList<PassageSearchDocument> documents, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(documents);
        var count = 0;
        var batch = new List<PassageSearchDocument>();
        long bytes = 0;
        foreach (var doc in documents)
        {
            var size = SerializedBytes(doc);
            if (batch.Count >= Math.Clamp(_options.BatchSize, 1, 1000) || (batch.Count > 0 && EnvelopeBytes + bytes + size > _options.MaxBatchBytes))
            {
                count += await SendBatchAsync(batch, cancellationToken).ConfigureAwait(false);
                batch = [];
                bytes = 0;
            }

            batch.Add(doc);
            bytes += size;
        }

        if (batch.Count > 0)
        {
            count += await SendBatchAsync(batch, cancellationToken).ConfigureAwait(false);
        }

        return count;
    }

    /// <summary>The bytes one document adds to an indexing request, measured by serializing it as the SDK does.</summary>
    public static long SerializedBytes(PassageSearchDocument document) => JsonSerializer.SerializeToUtf8Bytes(document, SdkJson).LongLength + ActionBytes;

    /// <summary>
    /// Marks a superseded version's passages as not current (they stay for history but leave results). A passage the
    /// index never held (its version was stored before Search was configured) answers 404 and is skipped; any other
    /// per-document failure is an error. Returns the count marked.
    /// </summary>
    public async Task<int> MarkSupersededAsync(IEnumerable<string> passageIds, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(passageIds);
        var marked = 0;
        foreach (var chunk in passageIds.Chunk(1000))
        {
            var batch = IndexDocumentsBatch.Merge(chunk.Select(id => new SearchDocument { ["id"] = EncodeKey(id), ["isCurrent"] = false }));
            var response = await _searchClient.IndexDocumentsAsync(batch, new IndexDocumentsOptions { ThrowOnAnyError = false }, cancellationToken).ConfigureAwait(false);
            var failed = response.Value.Results.Where(r => !r.Succeeded && r.Status != 404).ToList();
            if (failed.Count > 0)
            {
                throw new RequestFailedException(failed[0].Status, $"{failed.Count} of {chunk.Length} superseded passages were not updated: {failed[0].ErrorMessage}");
            }

            marked += response.Value.Results.Count(r => r.Succeeded);
        }

        return marked;
    }

    public async Task<IReadOnlyList<SearchHit>> SearchAsync(SearchQuery query, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        ReadOnlyMemory<float>? vector = null;
        if (_embedQuery is not null && !string.IsNullOrWhiteSpace(query.Text))
        {
            vector = await _embedQuery(query.Text, cancellationToken).ConfigureAwait(false);
        }

        return await SearchAsync(query, vector, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Hybrid search: full-text over passages plus a vector query when <paramref name="queryVector"/> is given.</summary>
    public async Task<IReadOnlyList<SearchHit>> SearchAsync(SearchQuery query, ReadOnlyMemory<float>? queryVector, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        var limit = Math.Clamp(query.Limit, 1, 1000);
        var options = new SearchOptions
        {
            Filter = BuildFilter(query),
            Size = limit,
            IncludeTotalCount = false,
        };
        foreach (var field in SelectFields)
        {
            options.Select.Add(field);
        }

        options.SearchFields.Add("text");
        options.SearchFields.Add("headings");
        options.SearchFields.Add("documentName");

        if (queryVector is { Length: > 0 } vector)
        {
            var vectorQuery = new VectorizedQuery(vector) { KNearestNeighborsCount = Math.Max(limit, 10) };
            vectorQuery.Fields.Add("vector");
            options.VectorSearch = new VectorSearchOptions();
            options.VectorSearch.Queries.Add(vectorQuery);
        }

        if (_options.UseSemanticRanker && !string.IsNullOrWhiteSpace(query.Text))
        {
            options.QueryType = SearchQueryType.Semantic;
            options.SemanticSearch = new SemanticSearchOptions { SemanticConfigurationName = SemanticConfigurationName };
        }

        var text = string.IsNullOrWhiteSpace(query.Text) ? "*" : query.Text;
        var response = await _searchClient.SearchAsync<PassageSearchDocument>(text, options, cancellationToken).ConfigureAwait(false);
        var hits = new List<SearchHit>();
        await foreach (var result in response.Value.GetResultsAsync().ConfigureAwait(false))
        {
            hits.Add(ToHit(result.Document, result.Score ?? 0));
            if (hits.Count >= limit)
            {
                break;
            }
        }

        return hits;
    }

    /// <summary>The OData filter for a query: current versions, optionally one control and one document type.</summary>
    public static string BuildFilter(SearchQuery query)
    {
        ArgumentNullException.ThrowIfNull(query);
        var parts = new List<string> { "isCurrent eq true" };
        if (!string.IsNullOrWhiteSpace(query.ControlId))
        {
            parts.Add($"controlIds/any(c: c eq {Literal(query.ControlId)})");
        }

        if (!string.IsNullOrWhiteSpace(query.DocType))
        {
            parts.Add($"docType eq {Literal(query.DocType)}");
        }

        return string.Join(" and ", parts);
    }

    /// <summary>An OData string literal: quoted, with single quotes doubled.</summary>
    public static string Literal(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        return "'" + value.Replace("'", "''", StringComparison.Ordinal) + "'";
    }

    /// <summary>Index keys allow letters, digits, _, - and =: passage ids are base64url-encoded.</summary>
    public static string EncodeKey(string passageId)
    {
        ArgumentNullException.ThrowIfNull(passageId);
        return System.Buffers.Text.Base64Url.EncodeToString(Encoding.UTF8.GetBytes(passageId));
    }

    public static PassageSearchDocument ToSearchDocument(DocumentRecord document, PassageWithMappings item, IReadOnlyDictionary<string, ReadOnlyMemory<float>>? vectors = null)
    {
        ArgumentNullException.ThrowIfNull(document);
        ArgumentNullException.ThrowIfNull(item);
        var p = item.Passage;
        float[]? vector = null;
        if (vectors is not null && vectors.TryGetValue(p.Id, out var v) && !v.IsEmpty)
        {
            vector = v.ToArray();
        }

        return new PassageSearchDocument
        {
            Id = EncodeKey(p.Id),
            PassageId = p.Id,
            DocumentId = document.Id,
            DocumentName = document.Name,
            Sha256 = document.Sha256,
            DocType = document.DocType,
            Status = document.Status.ToString().ToLowerInvariant(),
            Version = document.Version,
            IsCurrent = document.IsCurrent,
            Text = p.Text,
            Headings = p.Headings.ToList(),
            Page = p.Page,
            Ordinal = p.Ordinal,
            Start = p.Start,
            Length = p.Length,
            Kind = p.Kind,
            ControlIds = item.Mappings.Where(m => m.Review != ReviewState.Rejected).Select(m => m.ControlId).Distinct(StringComparer.Ordinal).ToList(),
            MappingsJson = JsonSerializer.Serialize(item.Mappings, Json),
            IngestedAt = document.IngestedAt,
            EffectiveDate = document.EffectiveDate is { } d ? new DateTimeOffset(d.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero) : null,
            PageCount = document.PageCount,
            StatedDate = document.StatedDate is { } s ? new DateTimeOffset(s.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero) : null,
            StatedDateSource = document.StatedDateSource,
            RowStart = p.RowStart,
            RowEnd = p.RowEnd,
            Vector = vector,
        };
    }

    private async Task<int> SendBatchAsync(List<PassageSearchDocument> batch, CancellationToken cancellationToken)
    {
        try
        {
            var response = await _searchClient.IndexDocumentsAsync(
                IndexDocumentsBatch.MergeOrUpload(batch),
                new IndexDocumentsOptions { ThrowOnAnyError = true },
                cancellationToken).ConfigureAwait(false);
            return response.Value.Results.Count(r => r.Succeeded);
        }
        catch (AggregateException ex) when (ex.InnerExceptions.Count > 0 && ex.InnerExceptions.All(e => e is RequestFailedException))
        {
            // The client reports per-document failures (HTTP 207) as one aggregate: surface them as one request failure.
            var first = (RequestFailedException)ex.InnerExceptions[0];
            throw new RequestFailedException(first.Status, $"{ex.InnerExceptions.Count} of {batch.Count} passages were not indexed: {ex.Message}", ex);
        }
    }

    private static SearchHit ToHit(PassageSearchDocument d, double score)
    {
        var document = new DocumentRecord
        {
            Id = d.DocumentId,
            Name = d.DocumentName,
            Sha256 = d.Sha256 ?? string.Empty,
            DocType = d.DocType,
            Status = Enum.TryParse<DocumentStatus>(d.Status, true, out var status) ? status : DocumentStatus.Processed,
            Version = d.Version,
            IsCurrent = d.IsCurrent,
            PageCount = d.PageCount,
            IngestedAt = d.IngestedAt,
            EffectiveDate = d.EffectiveDate is { } e ? DateOnly.FromDateTime(e.UtcDateTime) : null,
            StatedDate = d.StatedDate is { } s ? DateOnly.FromDateTime(s.UtcDateTime) : null,
            StatedDateSource = d.StatedDateSource,
        };
        var passage = new PassageRecord
        {
            Id = d.PassageId,
            DocumentId = d.DocumentId,
            Ordinal = d.Ordinal,
            Page = d.Page,
            Headings = d.Headings.ToArray(),
            Text = d.Text,
            Start = d.Start,
            Length = d.Length,
            Kind = d.Kind,
            RowStart = d.RowStart,
            RowEnd = d.RowEnd,
        };
        var mappings = (JsonSerializer.Deserialize<List<MappingRecord>>(string.IsNullOrEmpty(d.MappingsJson) ? "[]" : d.MappingsJson, Json) ?? [])
            .Where(m => m.Review != ReviewState.Rejected)
            .ToList();
        return new SearchHit(document, passage, score, mappings);
    }
}
