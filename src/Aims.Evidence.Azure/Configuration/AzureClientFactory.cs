using Aims.Evidence.Azure.Blobs;
using Aims.Evidence.Azure.DocumentIntelligence;
using Aims.Evidence.Azure.Search;
using Aims.Evidence.Azure.Tables;
using Azure;
using Azure.Core;
using Azure.Data.Tables;
using Azure.Identity;
using Azure.Search.Documents.Indexes;
using Azure.Storage.Blobs;
using Microsoft.Extensions.Configuration;

namespace Aims.Evidence.Azure.Configuration;

/// <summary>
/// Creates the storage clients and the token credential from configuration, the way the Functions host
/// resolves a connection: a connection string under the connection name (Azurite, local only) or an
/// identity-based connection (<c>AzureWebJobsStorage__blobServiceUri</c>, <c>__tableServiceUri</c>,
/// <c>__serviceUri</c>, <c>__accountName</c>, <c>__credential=managedidentity</c>, <c>__clientId</c>).
/// </summary>
public sealed class AzureClientFactory
{
    private readonly IConfiguration _configuration;
    private readonly AimsAzureOptions _options;
    private readonly Lazy<TokenCredential> _credential;

    public AzureClientFactory(IConfiguration configuration, AimsAzureOptions options)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        ArgumentNullException.ThrowIfNull(options);
        _configuration = configuration;
        _options = options;
        _credential = new Lazy<TokenCredential>(CreateCredential);
    }

    public AimsAzureOptions Options => _options;

    /// <summary>The identity used for every Azure call: the user-assigned identity when its client id is set.</summary>
    public TokenCredential Credential => _credential.Value;

    public BlobServiceClient CreateBlobServiceClient()
    {
        var name = _options.StorageConnection;
        var connectionString = _configuration[name];
        var clientOptions = StorageClientOptions.Blobs();
        if (!string.IsNullOrWhiteSpace(connectionString))
        {
            return new BlobServiceClient(connectionString, clientOptions);
        }

        return new BlobServiceClient(ResolveServiceUri(name, "blob"), ConnectionCredential(name), clientOptions);
    }

    public TableServiceClient CreateTableServiceClient()
    {
        var name = _options.StorageConnection;
        var connectionString = _configuration[name];
        if (!string.IsNullOrWhiteSpace(connectionString))
        {
            return new TableServiceClient(connectionString);
        }

        return new TableServiceClient(ResolveServiceUri(name, "table"), ConnectionCredential(name));
    }

    public BlobDocumentSource CreateBlobDocumentSource() => new(CreateBlobServiceClient());

    public TableEvidenceStore CreateEvidenceStore() => new(CreateTableServiceClient(), _options.TablePrefix);

    public IngestionStatusTable CreateIngestionStatusTable() => new(CreateTableServiceClient(), _options.TablePrefix);

    /// <summary>The Document Intelligence extractor: the managed identity, or the configured key for local experiments.</summary>
    public DocumentIntelligenceLayoutExtractor CreateDocumentIntelligenceExtractor(DocumentIntelligenceClientOptions? clientOptions = null)
    {
        var endpoint = _options.DocumentIntelligenceEndpoint
            ?? throw new InvalidOperationException($"Set {AimsAzureOptions.SectionName}:DocumentIntelligenceEndpoint.");
        var key = _options.DocumentIntelligenceKey;
        return new DocumentIntelligenceLayoutExtractor(new DocumentIntelligenceOptions(endpoint)
        {
            Credential = string.IsNullOrEmpty(key) ? Credential : null,
            ApiKey = string.IsNullOrEmpty(key) ? null : key,
            PollingInterval = _options.DocumentIntelligencePollingInterval,
            Timeout = _options.DocumentIntelligenceTimeout,
            ClientOptions = clientOptions ?? new DocumentIntelligenceClientOptions(),
        });
    }

    /// <summary>The AI Search index client: the managed identity, or the configured key for local experiments.</summary>
    public SearchIndexClient CreateSearchIndexClient(global::Azure.Search.Documents.SearchClientOptions? clientOptions = null)
    {
        var endpoint = _options.SearchEndpoint ?? throw new InvalidOperationException($"Set {AimsAzureOptions.SectionName}:SearchEndpoint.");
        clientOptions ??= new global::Azure.Search.Documents.SearchClientOptions();
        return string.IsNullOrEmpty(_options.SearchKey)
            ? new SearchIndexClient(endpoint, Credential, clientOptions)
            : new SearchIndexClient(endpoint, new AzureKeyCredential(_options.SearchKey), clientOptions);
    }

    /// <summary>The AI Search passage index; <paramref name="vectorDimensions"/> must be the embedding model's output length.</summary>
    public AzureAiSearchPassageIndex CreatePassageIndex(
        int vectorDimensions,
        Func<string, CancellationToken, Task<ReadOnlyMemory<float>?>>? embedQuery = null,
        global::Azure.Search.Documents.SearchClientOptions? clientOptions = null) =>
        new(CreateSearchIndexClient(clientOptions), new AzureAiSearchOptions
        {
            IndexName = _options.SearchIndexName,
            VectorDimensions = vectorDimensions,
            UseSemanticRanker = _options.UseSemanticRanker,
        }, embedQuery);

    private Uri ResolveServiceUri(string name, string service)
    {
        var section = _configuration.GetSection(name);
        var specific = section[service + "ServiceUri"];
        if (!string.IsNullOrWhiteSpace(specific))
        {
            return new Uri(specific);
        }

        // serviceUri is the blob-only shorthand of the Functions host.
        var generic = section["serviceUri"];
        if (service == "blob" && !string.IsNullOrWhiteSpace(generic))
        {
            return new Uri(generic);
        }

        var account = section["accountName"];
        if (!string.IsNullOrWhiteSpace(account))
        {
            return new Uri($"https://{account}.{service}.core.windows.net");
        }

        throw new InvalidOperationException(
            $"Storage connection '{name}' has neither a connection string nor '{name}__{service}ServiceUri' / '{name}__accountName'.");
    }

    private TokenCredential ConnectionCredential(string name)
    {
        var section = _configuration.GetSection(name);
        var clientId = section["clientId"];
        if (string.Equals(section["credential"], "managedidentity", StringComparison.OrdinalIgnoreCase)
            && !string.IsNullOrWhiteSpace(clientId))
        {
            return new ManagedIdentityCredential(ManagedIdentityId.FromUserAssignedClientId(clientId));
        }

        return Credential;
    }

    private TokenCredential CreateCredential()
    {
        if (!string.IsNullOrWhiteSpace(_options.ManagedIdentityClientId))
        {
            return new ManagedIdentityCredential(ManagedIdentityId.FromUserAssignedClientId(_options.ManagedIdentityClientId));
        }

        return new DefaultAzureCredential();
    }
}

/// <summary>Client options shared by the blob clients.</summary>
public static class StorageClientOptions
{
    /// <summary>
    /// Pins the Blob service version to one Azurite 3.37 accepts. Without the pin, Azurite must run with
    /// <c>--skipApiVersionCheck</c> because the SDK's default is newer than the emulator knows.
    /// </summary>
    public static BlobClientOptions Blobs() => new(BlobClientOptions.ServiceVersion.V2026_06_06);
}
