using Aims.Evidence.Azure.Configuration;
using Aims.Evidence.Core.Catalog;
using Aims.Evidence.Core.Classification;
using Aims.Evidence.Core.Extraction;
using Aims.Evidence.Core.Mapping;
using Aims.Evidence.Core.Pipeline;
using Aims.Evidence.Core.Segmentation;
using Aims.Evidence.Core.Services;
using Aims.Evidence.Core.Storage;
using Aims.Evidence.Local.Embeddings;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Aims.Evidence.Functions;

/// <summary>
/// Registers the same Core pipeline the CLI runs, with the cloud adapters behind Core's interfaces: Table Storage as
/// the evidence store and, when an endpoint is configured, Document Intelligence for PDFs and images.
/// </summary>
public static class PipelineRegistration
{
    public static IServiceCollection AddAimsPipeline(this IServiceCollection services)
    {
        services.AddSingleton(IsoCatalog.Default);
        services.AddSingleton<IEvidenceStore>(sp =>
        {
            var store = sp.GetRequiredService<AzureClientFactory>().CreateEvidenceStore();
            store.InitializeAsync().GetAwaiter().GetResult();
            return store;
        });
        services.AddSingleton<IDocumentReader>(sp =>
        {
            var options = sp.GetRequiredService<AimsAzureOptions>();
            return options.DocumentIntelligenceEndpoint is null
                ? DocumentReader.CreateDefault()
                : DocumentReader.CreateWith(sp.GetRequiredService<AzureClientFactory>().CreateDocumentIntelligenceExtractor());
        });

        // The embedded embedding model runs in-process (no key, no network); Azure OpenAI embeddings plug into the same kernel.
        services.AddSingleton<LocalEmbeddingGenerator>();
        services.AddSingleton<IControlMapper>(sp => new HybridControlMapper(KernelFactory.Create(sp.GetRequiredService<LocalEmbeddingGenerator>(), sp.GetRequiredService<IsoCatalog>())));
        services.AddSingleton<IDocumentIngestor>(sp => new IngestionPipeline(
            sp.GetRequiredService<IDocumentReader>(),
            new Segmenter(),
            new LexicalDocumentClassifier(),
            sp.GetRequiredService<IControlMapper>(),
            sp.GetRequiredService<IEvidenceStore>(),
            sp.GetRequiredService<IsoCatalog>(),
            new PipelineOptions(),
            sp.GetService<ILogger<IngestionPipeline>>()));
        services.AddSingleton(sp => new EvidenceService(sp.GetRequiredService<IEvidenceStore>(), sp.GetRequiredService<IsoCatalog>()));
        return services;
    }
}
