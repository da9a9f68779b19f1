using Aims.Evidence.Core.Llm;
using Azure.Core;
using Azure.Identity;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Http.Resilience;
using Microsoft.SemanticKernel;
using Polly;

namespace Aims.Evidence.OpenAI;

/// <summary>
/// Wires the LLM mode: a Semantic Kernel with an OpenAI-compatible or Azure OpenAI chat completion service whose HttpClient comes from IHttpClientFactory with the standard
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

    /// <summary>
    /// A kernel with the chat completion service of <paramref name="options"/> and nothing else: the LLM judge and the
    /// LLM classifier render their prompt templates (prompts/*.yaml) with it and send them to that service; no plugins,
    /// no function calling. Azure OpenAI with Entra ID authenticates with <paramref name="credential"/> (the Functions
    /// app passes its user-assigned managed identity), or <c>DefaultAzureCredential</c> when none is given.
    /// </summary>
    public static Kernel CreateKernel(LlmOptions options, HttpClient httpClient, TokenCredential? credential = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(httpClient);
        var builder = Kernel.CreateBuilder();
        var endpoint = options.Endpoint!;
        var model = options.Model!;
        switch (LlmProviders.Normalize(options.Provider))
        {
            case LlmProviders.AzureOpenAI when options.UseEntraId:
                builder.AddAzureOpenAIChatCompletion(model, endpoint, credential ?? new DefaultAzureCredential(), modelId: model, httpClient: httpClient, apiVersion: options.ApiVersion);
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

    /// <summary>
    /// Azure OpenAI embeddings through Semantic Kernel's Azure OpenAI connector (<c>AddAzureOpenAIEmbeddingGenerator</c>):
    /// the deployment <see cref="LlmOptions.EmbeddingsModel"/> at <see cref="LlmOptions.EmbeddingsEndpoint"/> (or
    /// <see cref="LlmOptions.Endpoint"/>), asking for <see cref="LlmOptions.EmbeddingsDimensions"/>, with Entra ID
    /// (<paramref name="credential"/>, default <c>DefaultAzureCredential</c>) or, for local testing, the API key.
    /// Resolve the <see cref="IEmbeddingGenerator{TInput, TEmbedding}"/> from the returned provider and dispose the
    /// provider with it.
    /// </summary>
    public static ServiceProvider CreateAzureOpenAIEmbeddingServices(LlmOptions options, HttpClient httpClient, TokenCredential? credential = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(httpClient);
        var endpoint = options.EmbeddingsEndpoint ?? options.Endpoint
            ?? throw new ArgumentException("azure-openai embeddings need an endpoint", nameof(options));
        var deployment = options.EmbeddingsModel ?? throw new ArgumentException("azure-openai embeddings need a deployment", nameof(options));
        var services = new ServiceCollection();

        // SKEXP0010: Semantic Kernel marks its embedding registrations experimental (the dimensions parameter); the
        // 1.82.0 pin in Directory.Packages.props keeps the signature fixed.
#pragma warning disable SKEXP0010
        if (options.UseEntraId)
        {
            services.AddAzureOpenAIEmbeddingGenerator(
                deployment, endpoint, credential ?? new DefaultAzureCredential(), modelId: deployment, dimensions: options.EmbeddingsDimensions, apiVersion: options.ApiVersion, httpClient: httpClient);
        }
        else
        {
            services.AddAzureOpenAIEmbeddingGenerator(
                deployment, endpoint, options.ApiKey ?? throw new ArgumentException("azure-openai embeddings need an API key or UseEntraId", nameof(options)),
                modelId: deployment, dimensions: options.EmbeddingsDimensions, apiVersion: options.ApiVersion, httpClient: httpClient);
        }
#pragma warning restore SKEXP0010

        return services.BuildServiceProvider();
    }
}
