using Aims.Evidence.Api;
using Aims.Evidence.Azure.Configuration;
using Aims.Evidence.Azure.Tables;
using Aims.Evidence.Core.Pipeline;
using Aims.Evidence.Core.Storage;
using Aims.Evidence.Functions;
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
        public static IServiceCollection AddAimsFunctions(this IServiceCollection services, IConfiguration configuration)
        {
            var options = AzureClientFactory.BindOptions(configuration);
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

            // The same Core pipeline as the CLI: IngestionPipeline as IDocumentIngestor over Table Storage.
            services.AddAimsPipeline();

            // The read routes of the REST API (ReadApiFunctions): the API's query options and JSON settings, and
            // passage search over the same store. Azure AI Search is not used here: the Functions pipeline writes
            // passages to Table Storage only, so an AI Search index would not hold them.
            services.AddAimsQueries();
            services.AddSingleton<IPassageIndex>(sp => new StorePassageIndex(sp.GetRequiredService<IEvidenceStore>()));
            return services;
        }
    }
}
