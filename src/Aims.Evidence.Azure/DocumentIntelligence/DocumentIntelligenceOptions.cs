using Azure.Core;

namespace Aims.Evidence.Azure.DocumentIntelligence;

/// <summary>Client options (retries, diagnostics, transport) of the Document Intelligence REST pipeline.</summary>
public sealed class DocumentIntelligenceClientOptions : ClientOptions
{
}

/// <summary>
/// Settings of <see cref="DocumentIntelligenceLayoutExtractor"/>: the resource endpoint and either a
/// <see cref="TokenCredential"/> (managed identity; preferred) or a key, plus polling and timeout.
/// </summary>
public sealed record DocumentIntelligenceOptions(Uri Endpoint)
{
    public const string DefaultApiVersion = "2024-11-30";

    public const string CognitiveServicesScope = "https://cognitiveservices.azure.com/.default";

    /// <summary>Identity used with a bearer token for <see cref="CognitiveServicesScope"/>.</summary>
    public TokenCredential? Credential { get; init; }

    /// <summary>Resource key sent as <c>Ocp-Apim-Subscription-Key</c> when no credential is set.</summary>
    public string? ApiKey { get; init; }

    /// <summary>Delay between polls when the service sends no Retry-After.</summary>
    public TimeSpan PollingInterval { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>Upper bound for one analysis, submit to result.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromMinutes(5);

    public string ApiVersion { get; init; } = DefaultApiVersion;

    /// <summary>The model to run; the layout model gives paragraphs with roles and tables.</summary>
    public string ModelId { get; init; } = "prebuilt-layout";

    public DocumentIntelligenceClientOptions ClientOptions { get; init; } = new();
}
