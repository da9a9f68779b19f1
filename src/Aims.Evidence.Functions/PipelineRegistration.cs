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
using Aims.Evidence.Local;
using Aims.Evidence.Local.Embeddings;
using Azure.Core;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.SemanticKernel;

namespace Aims.Evidence.Functions;

/// <summary>
/// Registers the same Core pipeline the CLI runs, with the cloud adapters behind Core's interfaces: Table Storage as
/// the evidence store, Document Intelligence for PDFs and images when an endpoint is configured, and the mapping
/// stage of the one LLM options model (<c>Aims:Llm</c>, app settings <c>Aims__Llm__*</c>): the embedded hybrid mapper
/// by default, the LLM-judged mapper on Azure OpenAI when a provider is set, with embeddings from the bundled model or
/// from an Azure OpenAI deployment.
/// </summary>
public static class PipelineRegistration
{
    public const string LlmSection = "Aims:Llm";

    /// <summary>Binds and validates <see cref="LlmOptions"/> from <c>Aims:Llm</c>; a bad setting fails at startup.</summary>
    public static LlmOptions BindLlmOptions(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        return (configuration.GetSection(LlmSection).Get<LlmOptions>() ?? new LlmOptions()).Validated();
    }

    public static IServiceCollection AddAimsPipeline(this IServiceCollection services, LlmOptions llm)
    {
        ArgumentNullException.ThrowIfNull(llm);
        services.AddSingleton(IsoCatalog.Default);
        services.AddSingleton(llm);
        services.AddSingleton(sp =>
        {
            var store = sp.GetRequiredService<AzureClientFactory>().CreateEvidenceStore();
            store.InitializeAsync().GetAwaiter().GetResult();
            return store;
        });
        services.AddSingleton<IEvidenceStore>(sp => sp.GetRequiredService<Aims.Evidence.Azure.Tables.TableEvidenceStore>());
        services.AddSingleton<IDocumentReader>(sp =>
        {
            var options = sp.GetRequiredService<AimsAzureOptions>();
            return options.DocumentIntelligenceEndpoint is null
                ? DocumentReader.CreateDefault()
                : DocumentReader.CreateWith(sp.GetRequiredService<AzureClientFactory>().CreateDocumentIntelligenceExtractor());
        });

        // Model calls: one resilient HttpClient and one identity (the user-assigned managed identity in Azure; a test
        // may register its own TokenCredential).
        services.AddSingleton(sp => new ModelServices(llm, sp.GetService<TokenCredential>() ?? sp.GetRequiredService<AzureClientFactory>().Credential));

        // Embeddings: the bundled model in-process (no key, no network), or an Azure OpenAI deployment through Semantic
        // Kernel's connector. The same generator feeds the hybrid mapper and the AI Search vector field.
        services.TryAddSingleton<IEmbeddingGenerator<string, Embedding<float>>>(sp => llm.AzureOpenAIEmbeddings
            ? sp.GetRequiredService<ModelServices>().AzureOpenAIEmbeddings()
            : new LocalEmbeddingGenerator());
        services.TryAddSingleton<ILlmLedger, InMemoryLlmLedger>();
        services.AddSingleton<IControlMapper>(sp =>
        {
            var generator = sp.GetRequiredService<IEmbeddingGenerator<string, Embedding<float>>>();
            var catalog = sp.GetRequiredService<IsoCatalog>();
            if (!llm.Enabled)
            {
                return new HybridControlMapper(KernelFactory.Create(generator, catalog));
            }

            var kernel = sp.GetRequiredService<ModelServices>().ChatKernel(generator, catalog);
            return new LlmControlMapper(
                new HybridControlMapper(kernel), kernel, llm, sp.GetRequiredService<ILlmLedger>(), catalog, logger: sp.GetService<ILogger<LlmControlMapper>>());
        });
        services.AddSingleton<IDocumentClassifier>(sp => llm.Enabled && llm.ClassifyDocuments
            ? new LlmDocumentClassifier(
                new LexicalDocumentClassifier(),
                sp.GetRequiredService<ModelServices>().ChatKernel(sp.GetRequiredService<IEmbeddingGenerator<string, Embedding<float>>>(), sp.GetRequiredService<IsoCatalog>()),
                llm,
                sp.GetRequiredService<ILlmLedger>())
            : new LexicalDocumentClassifier());
        services.AddSingleton<IDocumentIngestor>(sp => new IngestionPipeline(
            sp.GetRequiredService<IDocumentReader>(),
            new Segmenter(),
            sp.GetRequiredService<IDocumentClassifier>(),
            sp.GetRequiredService<IControlMapper>(),
            sp.GetRequiredService<IEvidenceStore>(),
            sp.GetRequiredService<IsoCatalog>(),
            new PipelineOptions(),
            sp.GetService<ILogger<IngestionPipeline>>()));
        services.AddSingleton(sp => new EvidenceService(sp.GetRequiredService<IEvidenceStore>(), sp.GetRequiredService<IsoCatalog>()));
        return services;
    }
}

/// <summary>
/// The model-facing services of the Functions app: the HttpClient with the standard resilience handler (retries on
/// 429/5xx with Retry-After, timeouts, circuit breaker; <see cref="LlmComposition.CreateHttpServices"/>), the token
/// credential, the Azure OpenAI embedding generator and the chat kernel, created once and disposed with the host.
/// </summary>
public sealed class ModelServices : IDisposable
{
    private readonly LlmOptions _options;
    private readonly ServiceProvider _http;
    private readonly Lock _lock = new();
    private ServiceProvider? _embeddings;
    private Kernel? _kernel;

    public ModelServices(LlmOptions options, TokenCredential credential)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(credential);
        _options = options;
        Credential = credential;
        _http = LlmComposition.CreateHttpServices(options);
        HttpClient = _http.GetRequiredService<IHttpClientFactory>().CreateClient(LlmComposition.HttpClientName);
    }

    public TokenCredential Credential { get; }

    public HttpClient HttpClient { get; }

    /// <summary>The Azure OpenAI embedding generator (Semantic Kernel's Azure OpenAI connector).</summary>
    public IEmbeddingGenerator<string, Embedding<float>> AzureOpenAIEmbeddings()
    {
        lock (_lock)
        {
            _embeddings ??= LlmComposition.CreateAzureOpenAIEmbeddingServices(_options, HttpClient, _options.UseEntraId ? Credential : null);
            return _embeddings.GetRequiredService<IEmbeddingGenerator<string, Embedding<float>>>();
        }
    }

    /// <summary>The kernel with the chat completion service of <c>Aims:Llm</c> and the given embedding generator.</summary>
    public Kernel ChatKernel(IEmbeddingGenerator<string, Embedding<float>> generator, IsoCatalog catalog)
    {
        lock (_lock)
        {
            return _kernel ??= LlmComposition.CreateKernel(_options, generator, catalog, HttpClient, _options.UseEntraId ? Credential : null);
        }
    }

    public void Dispose()
    {
        _embeddings?.Dispose();
        HttpClient.Dispose();
        _http.Dispose();
    }
}
