using Aims.Evidence.Api;
using Aims.Evidence.Azure.Configuration;
using Aims.Evidence.Azure.Search;
using Aims.Evidence.Azure.Tables;
using Aims.Evidence.Core.Pipeline;
using Aims.Evidence.Core.Storage;
using Aims.Evidence.Core.Tasks;
using Aims.Evidence.Functions;
using Aims.Evidence.Hosting;
using Azure.Search.Documents;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;

var host = new HostBuilder()
    .ConfigureFunctionsWebApplication()
    .ConfigureServices((context, services) => services.AddAimsFunctions(context.Configuration))
    .Build();

await host.RunAsync();

namespace Aims.Evidence.Functions
{
    /// <summary>Service registrations of the Functions app, shared with the tests.</summary>
    public static class FunctionsServiceCollectionExtensions
    {
        /// <summary>
        /// Every <c>Aims:*</c> section is bound once, through the composition root (<see cref="AimsComposition"/>):
        /// <c>Aims:Mapping</c>, <c>Aims:Llm</c> and <c>Aims:Extraction</c> into <see cref="AimsSettings"/>,
        /// <c>Aims:Azure</c> here, <c>Aims:Api</c>, <c>Aims:Tasks</c> and <c>Aims:Notifications</c> as options.
        /// </summary>
        public static IServiceCollection AddAimsFunctions(this IServiceCollection services, IConfiguration configuration)
        {
            var settings = AimsComposition.Bind(configuration);
            var options = AimsComposition.BindSection<AimsAzureOptions>(configuration, AimsAzureOptions.SectionName);
            services.AddSingleton(options);
            services.AddSingleton(sp => new AzureClientFactory(configuration, options));
            services.AddSingleton(sp => sp.GetRequiredService<AzureClientFactory>().CreateBlobServiceClient());
            services.AddSingleton(sp => sp.GetRequiredService<AzureClientFactory>().CreateTableServiceClient());
            services.AddSingleton(sp =>
            {
                var table = new IngestionStatusTable(sp.GetRequiredService<global::Azure.Data.Tables.TableServiceClient>(), options.TablePrefix);
                table.InitializeAsync().GetAwaiter().GetResult();
                return table;
            });

            // API keys of the write routes (hashed, roles), the first admin as a configured hash.
            services.AddSingleton(sp =>
            {
                var keys = new TableApiKeyStore(sp.GetRequiredService<global::Azure.Data.Tables.TableServiceClient>(), options.TablePrefix, options.AdminKeySha256);
                keys.InitializeAsync().GetAwaiter().GetResult();
                return keys;
            });

            // The same Core pipeline as the CLI: IngestionPipeline as IDocumentIngestor over Table Storage, with the
            // mapping stage of Aims:Mapping and Aims:Llm.
            services.AddAimsPipeline(settings);

            // Core's review store (reviews, manual mappings, effective dates, audit log, audited key creation) over
            // the evidence tables and the key table: what the API's shared handlers take.
            services.AddSingleton(sp => new TableReviewStore(
                sp.GetRequiredService<TableEvidenceStore>(), sp.GetRequiredService<TableApiKeyStore>()));
            services.AddSingleton<IReviewStore>(sp => sp.GetRequiredService<TableReviewStore>());
            services.AddSingleton<IApplicabilityStore>(sp => sp.GetRequiredService<TableEvidenceStore>());
            services.AddSingleton<IOwnerStore>(sp => sp.GetRequiredService<TableEvidenceStore>());
            services.AddSingleton<IDigestStore>(sp => sp.GetRequiredService<TableEvidenceStore>());

            // Reviews teach the mapper: each decision re-scores the unreviewed suggestions in the background (the
            // same service as aims serve); the search index follows the changed passages.
            services.AddSingleton<ReviewLearningService>();
            services.AddHostedService(sp => sp.GetRequiredService<ReviewLearningService>());
            services.AddSingleton<IRescoreObserver, SearchIndexRescoreObserver>();

            // The REST API routes (ReadApiFunctions, WriteApiFunctions): the API's options (page sizes, MaxUploadBytes from
            // Aims:Api, app settings Aims__Api__*) and JSON settings.
            services.AddAimsQueries();
            services.AddAimsSection<AimsApiOptions>(configuration, AimsApiOptions.Section);
            services.AddAimsSection<TaskOptions>(configuration, TaskOptions.Section);
            services.AddAimsSection<NotificationOptions>(configuration, NotificationOptions.Section);
            services.AddAimsTasks();
            if (options.SearchEndpoint is not null)
            {
                // Azure AI Search: the blob trigger uploads each committed version's passages (SearchIndexer) and the
                // search route runs hybrid keyword + vector queries there. The vector field follows the embedding model.
                var dimensions = settings.Llm.EmbeddingDimensions;
                services.AddSingleton(sp =>
                {
                    var generator = sp.GetRequiredService<IEmbeddingGenerator<string, Embedding<float>>>();
                    return sp.GetRequiredService<AzureClientFactory>().CreatePassageIndex(
                        dimensions, (text, ct) => SearchIndexer.EmbedQueryAsync(generator, dimensions, text, ct), sp.GetService<SearchClientOptions>());
                });
                services.AddSingleton(sp => new SearchIndexer(
                    sp.GetRequiredService<IEvidenceStore>(),
                    sp.GetRequiredService<AzureAiSearchPassageIndex>(),
                    sp.GetRequiredService<IEmbeddingGenerator<string, Embedding<float>>>(),
                    dimensions));
                services.AddSingleton<IPassageIndex>(sp => sp.GetRequiredService<AzureAiSearchPassageIndex>());
            }
            else
            {
                // Without Search the passages live in Table Storage only: search runs over the store.
                services.AddSingleton<IPassageIndex>(sp => new StorePassageIndex(sp.GetRequiredService<IEvidenceStore>()));
            }

            return services;
        }
    }
}

/// <summary>Keeps the search index's copies of re-scored passages in step (nothing to do without a search service).</summary>
internal sealed class SearchIndexRescoreObserver(SearchIndexer? indexer = null) : IRescoreObserver
{
    public async Task OnRescoredAsync(Aims.Evidence.Core.Mapping.Feedback.RescoreResult result, CancellationToken cancellationToken)
    {
        if (indexer is null)
        {
            return;
        }

        foreach (var passageId in result.Changed)
        {
            if (TableEvidenceStore.TrySplitPassageId(passageId, out var documentId))
            {
                await indexer.RefreshPassageAsync(documentId, passageId, cancellationToken).ConfigureAwait(false);
            }
        }
    }
}
