namespace Aims.Evidence.Core.Llm;

/// <summary>Provider names accepted in <see cref="LlmOptions.Provider"/>.</summary>
public static class LlmProviders
{
    /// <summary>No model: the embedded mapper only (the default).</summary>
    public const string None = "none";

    /// <summary>Azure OpenAI: <see cref="LlmOptions.Endpoint"/> is the resource URL, <see cref="LlmOptions.Model"/> the deployment.</summary>
    public const string AzureOpenAI = "azure-openai";

    /// <summary>Any OpenAI-compatible base URL (OpenAI, Ollama, llama.cpp server, vLLM), e.g. http://localhost:11434/v1.</summary>
    public const string OpenAI = "openai";

    public static string Normalize(string? provider) => (provider ?? string.Empty).Trim().ToLowerInvariant() switch
    {
        "" or "none" or "off" => None,
        "azure-openai" or "azureopenai" or "azure" => AzureOpenAI,
        "openai" or "openai-compatible" or "ollama" => OpenAI,
        var other => throw new ArgumentException($"unknown LLM provider '{provider}' (use none, azure-openai or openai)", nameof(provider)),
    };
}

/// <summary>
/// LLM-judged mapping settings. Bound from appsettings.json (section "Aims:Llm"), environment variables
/// (AIMS__LLM__PROVIDER, AIMS__LLM__ENDPOINT, ...) and <c>aims ingest --llm-*</c> flags, in that order.
/// </summary>
public sealed record LlmOptions
{
    /// <summary>none | azure-openai | openai. Unset with an endpoint means openai; unset without one means none.</summary>
    public string? Provider { get; init; }

    /// <summary>Azure OpenAI resource URL, or the OpenAI-compatible base URL (…/v1).</summary>
    public string? Endpoint { get; init; }

    /// <summary>Model id (OpenAI-compatible) or deployment name (Azure OpenAI).</summary>
    public string? Model { get; init; }

    /// <summary>API key; optional for local servers and for Azure OpenAI with <see cref="UseEntraId"/>.</summary>
    public string? ApiKey { get; init; }

    /// <summary>Azure OpenAI: authenticate with DefaultAzureCredential instead of a key.</summary>
    public bool UseEntraId { get; init; }

    /// <summary>Azure OpenAI api-version query parameter; null = the connector's default.</summary>
    public string? ApiVersion { get; init; }

    /// <summary>Passages per model call.</summary>
    public int BatchSize { get; init; } = 8;

    /// <summary>Candidate controls the embedded engine offers per passage; 0 (the default) takes the engine's recommendation (the trained model's k, 5 for the hybrid engine).</summary>
    public int CandidatesPerPassage { get; init; }

    /// <summary>Model calls in flight at once (across documents).</summary>
    public int MaxConcurrency { get; init; } = 2;

    /// <summary>Timeout of one HTTP attempt.</summary>
    public int TimeoutSeconds { get; init; } = 100;

    /// <summary>Retries after a 429/5xx/timeout (the standard resilience handler; Retry-After is honoured).</summary>
    public int MaxRetries { get; init; } = 3;

    /// <summary>Base delay of the exponential retry backoff when the server sends no Retry-After.</summary>
    public double RetryBaseDelaySeconds { get; init; } = 2;

    /// <summary>Prompt + completion tokens one run may spend; once spent, batches fall back to the embedded mapper.</summary>
    public long? TokenBudget { get; init; }

    /// <summary>Model confidence below which a control is dropped.</summary>
    public double MinConfidence { get; init; } = 0.5;

    /// <summary>
    /// Embeddings used to propose candidates (and, in the Functions app, for the AI Search vector field): "local" (the
    /// bundled MiniLM model, 384 dimensions) or "azure-openai" (an Azure OpenAI embedding deployment through Semantic
    /// Kernel's Azure OpenAI connector; the Functions app only, the CLI always embeds locally).
    /// </summary>
    public string EmbeddingsProvider { get; init; } = "local";

    /// <summary>Azure OpenAI embedding deployment name (EmbeddingsProvider azure-openai).</summary>
    public string? EmbeddingsModel { get; init; }

    /// <summary>Azure OpenAI resource URL of the embedding deployment; null = <see cref="Endpoint"/>.</summary>
    public string? EmbeddingsEndpoint { get; init; }

    /// <summary>
    /// Vector length requested from the embedding model (text-embedding-3 models accept any length up to their
    /// native 1536/3072); the AI Search vector field is created with the same length.
    /// </summary>
    public int? EmbeddingsDimensions { get; init; }

    /// <summary>True when embeddings come from Azure OpenAI rather than the bundled model.</summary>
    public bool AzureOpenAIEmbeddings => string.Equals(EmbeddingsProvider?.Trim(), LlmProviders.AzureOpenAI, StringComparison.OrdinalIgnoreCase);

    /// <summary>The vector length the configured embeddings produce: 384 locally, <see cref="EmbeddingsDimensions"/> on Azure OpenAI.</summary>
    public int EmbeddingDimensions => AzureOpenAIEmbeddings ? EmbeddingsDimensions ?? 1536 : 384;

    /// <summary>Also classify documents with the model (prompts/classify-document.yaml); off by default.</summary>
    public bool ClassifyDocuments { get; init; }

    /// <summary>
    /// Also list the AI systems each prose document describes (prompts/list-ai-systems.yaml), once per document
    /// version at ingestion, as unconfirmed suggestions of the AI-system inventory; off by default.
    /// </summary>
    public bool ListAiSystems { get; init; }

    /// <summary>
    /// Replace e-mail addresses, phone numbers, IBANs, card numbers, IP addresses and US SSNs in document text (and
    /// names and headings) with typed placeholders before anything is sent to the model (<see cref="PiiRedactor"/>).
    /// On by default; the stored passages keep the original text.
    /// </summary>
    public bool Redact { get; init; } = true;

    /// <summary>Folder with the prompt templates; null = "prompts" next to the binaries.</summary>
    public string? PromptsDirectory { get; init; }

    public bool Enabled => LlmProviders.Normalize(Provider) != LlmProviders.None;

    /// <summary>Normalises the provider (endpoint alone = openai) and checks what the provider needs.</summary>
    public LlmOptions Validated()
    {
        var provider = LlmProviders.Normalize(Provider);
        if (string.IsNullOrWhiteSpace(Provider) && !string.IsNullOrWhiteSpace(Endpoint))
        {
            provider = LlmProviders.OpenAI;
        }

        var result = this with { Provider = provider };
        ValidateEmbeddings();
        if (provider == LlmProviders.None)
        {
            return result;
        }

        if (string.IsNullOrWhiteSpace(Endpoint) || !Uri.TryCreate(Endpoint, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
        {
            throw new ArgumentException($"the {provider} provider needs an http(s) endpoint (Aims:Llm:Endpoint or --llm-endpoint)");
        }

        if (string.IsNullOrWhiteSpace(Model))
        {
            throw new ArgumentException($"the {provider} provider needs a model or deployment name (Aims:Llm:Model or --llm-model)");
        }

        if (provider == LlmProviders.AzureOpenAI && string.IsNullOrWhiteSpace(ApiKey) && !UseEntraId)
        {
            throw new ArgumentException("azure-openai needs an API key (Aims:Llm:ApiKey) or Aims:Llm:UseEntraId=true");
        }

        if (BatchSize < 1 || CandidatesPerPassage < 0 || MaxConcurrency < 1 || TimeoutSeconds < 1 || MaxRetries < 0)
        {
            throw new ArgumentException("BatchSize, MaxConcurrency and TimeoutSeconds must be at least 1, CandidatesPerPassage and MaxRetries at least 0");
        }

        return result;
    }

    private void ValidateEmbeddings()
    {
        var embeddings = (EmbeddingsProvider ?? "local").Trim().ToLowerInvariant();
        if (embeddings == "local")
        {
            return;
        }

        if (embeddings != LlmProviders.AzureOpenAI)
        {
            throw new ArgumentException($"unknown embeddings provider '{EmbeddingsProvider}' (use local or azure-openai)");
        }

        var endpoint = EmbeddingsEndpoint ?? Endpoint;
        if (string.IsNullOrWhiteSpace(endpoint) || !Uri.TryCreate(endpoint, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
        {
            throw new ArgumentException("azure-openai embeddings need an http(s) endpoint (Aims:Llm:EmbeddingsEndpoint or Aims:Llm:Endpoint)");
        }

        if (string.IsNullOrWhiteSpace(EmbeddingsModel))
        {
            throw new ArgumentException("azure-openai embeddings need a deployment name (Aims:Llm:EmbeddingsModel)");
        }

        if (string.IsNullOrWhiteSpace(ApiKey) && !UseEntraId)
        {
            throw new ArgumentException("azure-openai embeddings need an API key (Aims:Llm:ApiKey) or Aims:Llm:UseEntraId=true");
        }

        if (EmbeddingsDimensions is < 1 or > 3072)
        {
            throw new ArgumentException("EmbeddingsDimensions must be between 1 and 3072");
        }
    }
}
