using Aims.Evidence.Core.Catalog;
using Aims.Evidence.Core.Classification;
using Aims.Evidence.Core.Extraction;
using Aims.Evidence.Core.Llm;
using Aims.Evidence.Core.Mapping;
using Aims.Evidence.Core.Pipeline;
using Aims.Evidence.Core.Segmentation;
using Aims.Evidence.Core.Services;
using Aims.Evidence.Hosting;
using Aims.Evidence.Sqlite;
using Microsoft.Extensions.Configuration;

namespace Aims.Evidence.Local;

/// <summary>
/// The embedded default, wired: the SQLite store plus the components of the one composition root
/// (<see cref="AimsComposition"/>). No network unless an LLM is configured.
/// </summary>
public sealed class LocalAims : IDisposable
{
    private readonly AimsComponents _components;

    private LocalAims(SqliteEvidenceStore store, AimsComponents components)
    {
        Store = store;
        _components = components;
        Evidence = new EvidenceService(store, components.Catalog);
    }

    public SqliteEvidenceStore Store { get; }

    public IsoCatalog Catalog => _components.Catalog;

    public IControlMapper Mapper => _components.Mapper;

    public IDocumentClassifier Classifier => _components.Classifier;

    /// <summary>The settings in effect (the mapper actually built).</summary>
    public AimsSettings Settings => _components.Settings;

    public EvidenceService Evidence { get; }

    /// <summary>Opens the database with the settings of appsettings.json next to the binary and the environment.</summary>
    public static Task<LocalAims> OpenAsync(string dbPath, CancellationToken cancellationToken = default) =>
        OpenAsync(dbPath, AimsComposition.Bind(AimsComposition.LoadConfiguration()), cancellationToken);

    /// <summary>Opens the database with the components built from <paramref name="configuration"/> (<c>Aims:*</c>).</summary>
    public static Task<LocalAims> OpenAsync(string dbPath, IConfiguration configuration, CancellationToken cancellationToken = default) =>
        OpenAsync(dbPath, AimsComposition.Bind(configuration), cancellationToken);

    public static async Task<LocalAims> OpenAsync(string dbPath, AimsSettings settings, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var store = new SqliteEvidenceStore(dbPath);
        try
        {
            await store.InitializeAsync(cancellationToken).ConfigureAwait(false);
            return new LocalAims(store, AimsComposition.Create(settings, store));
        }
        catch
        {
            store.Dispose();
            throw;
        }
    }

    public IngestionPipeline CreatePipeline(string? runId = null) => new(
        _components.Reader,
        new Segmenter(),
        Classifier,
        Mapper,
        Store,
        Catalog,
        new PipelineOptions { Limits = Settings.Limits, RunId = runId },
        systems: _components.SystemLister);

    public void Dispose()
    {
        Store.Dispose();
        _components.Dispose();
    }
}
