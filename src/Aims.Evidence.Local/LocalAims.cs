using Aims.Evidence.Core.Catalog;
using Aims.Evidence.Core.Classification;
using Aims.Evidence.Core.Extraction;
using Aims.Evidence.Core.Mapping;
using Aims.Evidence.Core.Pipeline;
using Aims.Evidence.Core.Segmentation;
using Aims.Evidence.Core.Services;
using Aims.Evidence.Local.Storage;

namespace Aims.Evidence.Local;

public sealed record LocalOptions
{
    public ExtractionLimits Limits { get; init; } = ExtractionLimits.Default;
}

/// <summary>The embedded default, wired: SQLite store, local extractors, classifier and mapper. No network.</summary>
public sealed class LocalAims : IDisposable
{
    private LocalAims(SqliteEvidenceStore store, IsoCatalog catalog, IControlMapper mapper, IDocumentClassifier classifier, LocalOptions options)
    {
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
        return new LocalAims(store, catalog, new LexicalControlMapper(catalog), new LexicalDocumentClassifier(), options ?? new LocalOptions());
    }

    public IngestionPipeline CreatePipeline(string? runId = null) => new(
        DocumentReader.CreateDefault(),
        new Segmenter(),
        Classifier,
        Mapper,
        Store,
        Catalog,
        new PipelineOptions { Limits = Options.Limits, RunId = runId });

    public void Dispose() => Store.Dispose();
}
