using Aims.Evidence.Azure.Configuration;
using Aims.Evidence.Core.Catalog;
using Aims.Evidence.Core.Classification;
using Aims.Evidence.Core.Extraction;
using Aims.Evidence.Core.Llm;
using Aims.Evidence.Core.Mapping;
using Aims.Evidence.Core.Pipeline;
using Aims.Evidence.Core.Segmentation;
using Aims.Evidence.Core.Services;
using Aims.Evidence.Core.Storage;
using Aims.Evidence.Hosting;
using Azure.Core;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;

namespace Aims.Evidence.Functions;

/// <summary>
/// Registers the same Core pipeline the CLI runs, with the components of the one composition root
/// (<see cref="AimsComposition"/>, settings <c>Aims:Mapping</c>, <c>Aims:Llm</c>, <c>Aims:Extraction</c>, app settings
/// <c>Aims__*</c>) and the cloud adapters behind Core's interfaces: Table Storage as the evidence store, Document
/// Intelligence for PDFs and images when an endpoint is configured, the user-assigned managed identity for Azure OpenAI.
/// </summary>
public static class PipelineRegistration
{
    /// <param name="services">The Functions app's services.</param>
    /// <param name="settings">The settings the app bound once (<see cref="AimsComposition.Bind"/>).</param>
    public static IServiceCollection AddAimsPipeline(this IServiceCollection services, AimsSettings settings)
    {
        services.TryAddSingleton<ILlmLedger, InMemoryLlmLedger>();
        services.AddAimsEvidence(settings, sp =>
        {
            var azure = sp.GetRequiredService<AimsAzureOptions>();
            return new AimsHostServices
            {
                // The user-assigned managed identity in Azure; a test may register its own TokenCredential.
                Credential = sp.GetService<TokenCredential>() ?? sp.GetRequiredService<AzureClientFactory>().Credential,
                ExtractorOverrides = azure.DocumentIntelligenceEndpoint is null ? [] : [sp.GetRequiredService<AzureClientFactory>().CreateDocumentIntelligenceExtractor()],
                LoggerFactory = sp.GetService<ILoggerFactory>(),
            };
        });
        services.AddSingleton(sp =>
        {
            var store = sp.GetRequiredService<AzureClientFactory>().CreateEvidenceStore();
            store.InitializeAsync().GetAwaiter().GetResult();
            return store;
        });
        services.AddSingleton<IEvidenceStore>(sp => sp.GetRequiredService<Aims.Evidence.Azure.Tables.TableEvidenceStore>());
        services.AddSingleton<IDocumentIngestor>(sp => new IngestionPipeline(
            sp.GetRequiredService<IDocumentReader>(),
            new Segmenter(),
            sp.GetRequiredService<IDocumentClassifier>(),
            sp.GetRequiredService<IControlMapper>(),
            sp.GetRequiredService<IEvidenceStore>(),
            sp.GetRequiredService<IsoCatalog>(),
            new PipelineOptions { Limits = sp.GetRequiredService<AimsSettings>().Limits },
            sp.GetService<ILogger<IngestionPipeline>>(),
            sp.GetService<IReviewStore>(),
            systems: sp.GetRequiredService<AimsComponents>().SystemLister));
        services.AddSingleton(sp => new EvidenceService(sp.GetRequiredService<IEvidenceStore>(), sp.GetRequiredService<IsoCatalog>()));
        return services;
    }
}
