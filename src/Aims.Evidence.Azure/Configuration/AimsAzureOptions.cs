namespace Aims.Evidence.Azure.Configuration;

/// <summary>
/// Every Azure setting of the pipeline, bound from the configuration section <c>Aims:Azure</c>
/// (environment variables <c>Aims__Azure__SearchEndpoint</c> and so on). Holds endpoints and names only:
/// authentication is identity-based (managed identity in Azure, developer credentials locally). Keys are
/// accepted solely as configuration values for local emulators and are never written in code.
/// </summary>
public sealed class AimsAzureOptions
{
    public const string SectionName = "Aims:Azure";

    /// <summary>
    /// Name of the storage connection (Functions style): either a connection string under that name or
    /// identity-based settings under <c>{name}__serviceUri</c> / <c>{name}__blobServiceUri</c> /
    /// <c>{name}__tableServiceUri</c> / <c>{name}__credential</c> / <c>{name}__clientId</c>.
    /// </summary>
    public string StorageConnection { get; set; } = "AzureWebJobsStorage";

    /// <summary>
    /// The setting of <see cref="InboxContainer"/> (app setting <c>Aims__Azure__InboxContainer</c>): uploads write to
    /// the container it names and the blob trigger's path resolves it (<c>%Aims:Azure:InboxContainer%/{name}</c>).
    /// </summary>
    public const string InboxContainerSetting = SectionName + ":" + nameof(InboxContainer);

    /// <summary>Blob container the pipeline watches and uploads go to.</summary>
    public string InboxContainer { get; set; } = "evidence-inbox";

    /// <summary>Prefix of every table the pipeline creates (letters and digits only).</summary>
    public string TablePrefix { get; set; } = "aims";

    /// <summary>Client id of the user-assigned managed identity; empty to use <c>DefaultAzureCredential</c>.</summary>
    public string? ManagedIdentityClientId { get; set; }

    /// <summary>Document Intelligence endpoint, e.g. https://my-di.cognitiveservices.azure.com/.</summary>
    public Uri? DocumentIntelligenceEndpoint { get; set; }

    /// <summary>Optional key for Document Intelligence (local experiments only; prefer the identity).</summary>
    public string? DocumentIntelligenceKey { get; set; }

    public TimeSpan DocumentIntelligencePollingInterval { get; set; } = TimeSpan.FromSeconds(2);

    public TimeSpan DocumentIntelligenceTimeout { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Azure AI Search endpoint, e.g. https://my-search.search.windows.net.</summary>
    public Uri? SearchEndpoint { get; set; }

    public string SearchIndexName { get; set; } = "aims-passages";

    /// <summary>Optional admin/query key for Search (local experiments only; prefer the identity).</summary>
    public string? SearchKey { get; set; }

    /// <summary>Adds a semantic configuration to the index (needs a Search tier with semantic ranker).</summary>
    public bool UseSemanticRanker { get; set; }

    /// <summary>
    /// SHA-256 (lower-case hex) of the first admin API key of the Functions app's write routes. Only the hash is
    /// configured; the key stays with the operator, who uses it to create the other keys (POST /api/v1/keys).
    /// </summary>
    public string? AdminKeySha256 { get; set; }

    /// <summary>Attempts per document (same content) before the Functions host records it as failed for good.</summary>
    public int MaxIngestAttempts { get; set; } = 3;

    // The index's vector dimensions follow the embedding model (Aims:Llm:EmbeddingsProvider / EmbeddingsDimensions):
    // 384 for the bundled model. Azure OpenAI chat and embeddings are configured in the one LLM options model,
    // Aims:Llm (Aims.Evidence.Core.Llm.LlmOptions), shared with the CLI.
}
