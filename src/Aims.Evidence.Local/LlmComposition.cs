using Aims.Evidence.Core.Catalog;
using Aims.Evidence.Core.Llm;
using Aims.Evidence.Core.Mapping;
using Azure.Identity;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Http.Resilience;
using Microsoft.SemanticKernel;
using Polly;

namespace Aims.Evidence.Local;

/// <summary>
/// Wires the LLM mapper: a Semantic Kernel with the embedding generator (candidates) and an OpenAI-compatible or
/// Azure OpenAI chat completion service whose HttpClient comes from IHttpClientFactory with the standard
/// resilience handler (retries on 429/5xx/timeouts with exponential backoff honouring Retry-After, attempt and
/// total timeouts, circuit breaker).
/// </summary>
public static class LlmComposition
{
    public const string HttpClientName = "aims-llm";

    /// <summary>The HTTP client factory for model calls; dispose the returned provider with the mapper.</summary>
    public static ServiceProvider CreateHttpServices(LlmOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var services = new ServiceCollection();
        var attempt = TimeSpan.FromSeconds(options.TimeoutSeconds);
        var retries = Math.Max(1, options.MaxRetries);
        var baseDelay = TimeSpan.FromSeconds(Math.Max(0.01, options.RetryBaseDelaySeconds));
        services.AddHttpClient(HttpClientName, c => c.Timeout = Timeout.InfiniteTimeSpan)
            .AddStandardResilienceHandler(o =>
            {
                o.Retry.MaxRetryAttempts = retries;
                o.Retry.Delay = baseDelay;
                o.Retry.BackoffType = DelayBackoffType.Exponential;
                o.Retry.UseJitter = true;
                o.Retry.ShouldRetryAfterHeader = true;
                o.Retry.MaxDelay = TimeSpan.FromSeconds(Math.Max(30, options.RetryBaseDelaySeconds * 8));
                o.AttemptTimeout.Timeout = attempt;
                o.TotalRequestTimeout.Timeout = (attempt * (retries + 1)) + (o.Retry.MaxDelay.Value * retries) + TimeSpan.FromSeconds(5);
                o.CircuitBreaker.SamplingDuration = (attempt * 2) + TimeSpan.FromSeconds(1);
            });
        return services.BuildServiceProvider();
    }

    /// <summary>A kernel with the catalog, the embedding generator and the chat completion service of <paramref name="options"/>.</summary>
    public static Kernel CreateKernel(LlmOptions options, IEmbeddingGenerator<string, Embedding<float>> generator, IsoCatalog catalog, HttpClient httpClient)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(generator);
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentNullException.ThrowIfNull(httpClient);
        var builder = Kernel.CreateBuilder();
        builder.Services.AddSingleton(catalog);
        builder.Services.AddSingleton(generator);
        builder.Plugins.AddFromObject(new CatalogPlugin(catalog), KernelFactory.CatalogPluginName);
        var endpoint = options.Endpoint!;
        var model = options.Model!;
        switch (LlmProviders.Normalize(options.Provider))
        {
            case LlmProviders.AzureOpenAI when options.UseEntraId:
                builder.AddAzureOpenAIChatCompletion(model, endpoint, new DefaultAzureCredential(), modelId: model, httpClient: httpClient, apiVersion: options.ApiVersion);
                break;
            case LlmProviders.AzureOpenAI:
                builder.AddAzureOpenAIChatCompletion(model, endpoint, options.ApiKey!, modelId: model, httpClient: httpClient, apiVersion: options.ApiVersion);
                break;
            case LlmProviders.OpenAI:
                // Local servers (Ollama, llama.cpp, vLLM) take any key; the OpenAI client needs a non-empty one.
                builder.AddOpenAIChatCompletion(model, new Uri(endpoint), string.IsNullOrWhiteSpace(options.ApiKey) ? "no-key" : options.ApiKey, httpClient: httpClient);
                break;
            default:
                throw new ArgumentException($"no chat completion for provider '{options.Provider}'", nameof(options));
        }

        return builder.Build();
    }
}
