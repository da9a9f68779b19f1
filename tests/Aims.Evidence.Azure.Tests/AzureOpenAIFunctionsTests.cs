using System.Collections.Concurrent;
using System.Reflection;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Aims.Evidence.Azure.Configuration;
using Aims.Evidence.Azure.Tables;
using Aims.Evidence.Azure.Tests.Infrastructure;
using Aims.Evidence.Core.Llm;
using Aims.Evidence.Core.Mapping;
using Aims.Evidence.Core.Storage;
using Aims.Evidence.Functions;
using Aims.Evidence.Hosting;
using Aims.Evidence.Tests.Llm;
using Azure.Core;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Aims.Evidence.Azure.Tests;

/// <summary>
/// The Functions app with Azure OpenAI configured through app settings (<c>Aims:Llm</c>): the LLM-judged mapper on a
/// chat deployment and embeddings from an embedding deployment through Semantic Kernel's Azure OpenAI connector, both
/// against <see cref="FakeOpenAiServer"/> speaking the Azure OpenAI wire format, over Azurite (and the fake Search
/// service for the vector field).
/// </summary>
[Trait(Tiers.Name, Tiers.Slow)]
public sealed partial class AzureOpenAIFunctionsTests(AzuriteFixture azurite)
{
    private const string Policy = "# Artificial intelligence policy\n\n## Purpose\n\nThis policy sets the direction of Contoso Lending for the responsible development and use of AI systems. It is approved by the board and reviewed every year.\n\n## Commitments\n\nTop management commits to meet applicable legal requirements, to assess the impact of AI systems on individuals and groups, and to continually improve the AI management system. Roles and responsibilities for AI are assigned to named owners.\n";

    /// <summary>Stands in for the managed identity (Entra ID cannot run here): hands out a fixed token and records the scopes asked for.</summary>
    private sealed class RecordingCredential : TokenCredential
    {
        public ConcurrentQueue<string[]> Scopes { get; } = new();

        public override AccessToken GetToken(TokenRequestContext requestContext, CancellationToken cancellationToken)
        {
            Scopes.Enqueue(requestContext.Scopes);
            return new AccessToken("entra-test-token", DateTimeOffset.UtcNow.AddHours(1));
        }

        public override ValueTask<AccessToken> GetTokenAsync(TokenRequestContext requestContext, CancellationToken cancellationToken) =>
            ValueTask.FromResult(GetToken(requestContext, cancellationToken));
    }

    private ServiceProvider Start(Dictionary<string, string?> settings, Action<IServiceCollection>? configure = null)
    {
        azurite.Require();
        settings["AzureWebJobsStorage"] = azurite.ConnectionString;
        settings["Aims:Azure:TablePrefix"] = AzuriteFixture.UniquePrefix();
        settings["Aims:Llm:PromptsDirectory"] = Path.Combine(TestPaths.RepoRoot, "prompts");
        settings["Aims:Llm:MaxRetries"] = "1";
        settings["Aims:Llm:RetryBaseDelaySeconds"] = "0.05";
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var services = new ServiceCollection();
        services.AddLogging();
        configure?.Invoke(services);
        services.AddAimsFunctions(configuration);
        services.AddSingleton<IngestBlobFunction>();
        return services.BuildServiceProvider();
    }

    private async Task<string> IngestAsync(ServiceProvider provider, string file, string text)
    {
        var ct = TestContext.Current.CancellationToken;
        var name = $"{Guid.NewGuid():N}/{file}";
        var container = azurite.Blobs().GetBlobContainerClient("evidence-inbox");
        await container.CreateIfNotExistsAsync(cancellationToken: ct);
        var blob = container.GetBlobClient(name);
        await blob.UploadAsync(BinaryData.FromString(text), overwrite: true, ct);
        Assert.Equal(IngestionStates.Processed, await provider.GetRequiredService<IngestBlobFunction>().IngestAsync(blob, name, ct));
        return name;
    }

    [Fact]
    public async Task The_functions_pipeline_maps_with_azure_openai_chat_and_embeddings_into_the_index()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var openAi = await FakeOpenAiServer.StartAsync(FakeOpenAiServer.Comply);
        await using var search = new FakeSearchService();
        using var provider = Start(
            new()
            {
                ["Aims:Llm:Provider"] = "azure-openai",
                ["Aims:Llm:Endpoint"] = openAi.BaseUrl + "/",
                ["Aims:Llm:Model"] = "aims-chat",
                ["Aims:Llm:ApiKey"] = "local-fake-openai-key",
                ["Aims:Llm:EmbeddingsProvider"] = "azure-openai",
                ["Aims:Llm:EmbeddingsModel"] = "aims-embedding",
                ["Aims:Llm:EmbeddingsDimensions"] = "64",
                ["Aims:Azure:SearchEndpoint"] = FakeSearchService.Endpoint.ToString(),
                ["Aims:Azure:SearchKey"] = "local-fake-search-key",
            },
            services => services.AddSingleton(search.ClientOptions()));

        Assert.IsType<LlmControlMapper>(Assert.IsType<PolarityMapper>(provider.GetRequiredService<IControlMapper>()).Inner);
        var name = await IngestAsync(provider, "ai-policy.md", Policy);

        // Embeddings: the Azure OpenAI deployment route, api-version, the key header, the requested dimensions.
        var embedding = Assert.IsType<FakeOpenAiServer.Received>(openAi.EmbeddingRequests.First());
        Assert.Equal("/openai/deployments/aims-embedding/embeddings", embedding.Path);
        Assert.Contains("api-version=", embedding.Query, StringComparison.Ordinal);
        Assert.Equal("local-fake-openai-key", embedding.ApiKey);
        var embeddingBody = JsonNode.Parse(embedding.Body)!;
        Assert.Equal(64, embeddingBody["dimensions"]!.GetValue<int>());
        Assert.NotEmpty(embeddingBody["input"]!.AsArray());

        // Chat: the deployment route, the key, a chat body with the delimited passages and their candidates.
        var chat = Assert.Single(openAi.Requests);
        Assert.Equal("/openai/deployments/aims-chat/chat/completions", chat.Path);
        Assert.Contains("api-version=", chat.Query, StringComparison.Ordinal);
        Assert.Equal("local-fake-openai-key", chat.ApiKey);
        Assert.NotEmpty(chat.Offered);

        // The mappings stored in Table Storage are the model's.
        var store = provider.GetRequiredService<IEvidenceStore>();
        var doc = (await store.GetCurrentByNameAsync(name, ct))!;
        var mappings = (await store.GetPassagesAsync(doc.Id, ct)).SelectMany(p => p.Mappings).ToList();
        Assert.NotEmpty(mappings);
        Assert.All(mappings, m => Assert.Equal("aims-chat", m.Model));

        // The index's vector field and every uploaded vector follow the configured model (64 dimensions).
        var vectorField = search.IndexDefinition!["fields"]!.AsArray().Single(f => f!["name"]!.GetValue<string>() == "vector")!;
        Assert.Equal(64, vectorField["dimensions"]!.GetValue<int>());
        Assert.NotEmpty(search.Documents);
        Assert.All(search.Documents.Values, d => Assert.Equal(64, d["vector"]!.AsArray().Count));
    }

    [Fact]
    public async Task Entra_id_sends_the_managed_identity_token_and_no_key()
    {
        await using var openAi = await FakeOpenAiServer.StartAsync(FakeOpenAiServer.Comply);
        var credential = new RecordingCredential();
        using var provider = Start(
            new()
            {
                ["Aims:Llm:Provider"] = "azure-openai",
                ["Aims:Llm:Endpoint"] = openAi.BaseUrl + "/",
                ["Aims:Llm:Model"] = "aims-chat",
                ["Aims:Llm:UseEntraId"] = "true",
                ["Aims:Llm:EmbeddingsProvider"] = "azure-openai",
                ["Aims:Llm:EmbeddingsModel"] = "aims-embedding",
                ["Aims:Llm:EmbeddingsDimensions"] = "32",

                // The hybrid proposer embeds through the Azure OpenAI deployment (the trained mapper reads the bundled
                // encoders only; Azure OpenAI embeddings then feed AI Search), so both calls carry the token here.
                ["Aims:Mapping:Mapper"] = "hybrid",
            },
            services => services.AddSingleton<TokenCredential>(credential));

        await IngestAsync(provider, "ai-policy.md", Policy);

        Assert.NotEmpty(openAi.EmbeddingRequests);
        Assert.NotEmpty(openAi.Requests);
        Assert.All(openAi.EmbeddingRequests.Concat(openAi.Requests), r =>
        {
            Assert.Equal("Bearer entra-test-token", r.Authorization);
            Assert.Null(r.ApiKey);
        });
        Assert.Contains(credential.Scopes, s => s.Contains("https://cognitiveservices.azure.com/.default"));
    }

    [Fact]
    public void Incomplete_azure_openai_settings_fail_at_startup_naming_the_setting()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Aims:Llm:EmbeddingsProvider"] = "azure-openai",
            ["Aims:Llm:Endpoint"] = "https://aims.openai.azure.com/",
            ["Aims:Llm:UseEntraId"] = "true",
        }).Build();
        var error = Assert.Throws<ArgumentException>(() => AimsComposition.Bind(configuration).Llm);
        Assert.Contains("Aims:Llm:EmbeddingsModel", error.Message, StringComparison.Ordinal);

        var local = AimsComposition.Bind(new ConfigurationBuilder().Build()).Llm;
        Assert.False(local.Enabled);
        Assert.Equal(384, local.EmbeddingDimensions);
    }

    /// <summary>Every Aims__Azure__* and Aims__Llm__* app setting in the Bicep names a property the app binds.</summary>
    [Fact]
    public void Bicep_app_settings_match_the_options_the_app_reads()
    {
        var bicep = File.ReadAllText(Path.Combine(TestPaths.RepoRoot, "infra", "modules", "resources.bicep"));
        var settings = AppSetting().Matches(bicep).Select(m => (Section: m.Groups[1].Value, Name: m.Groups[2].Value)).ToList();
        Assert.Contains(settings, s => s.Section == "Llm");
        Assert.Contains(settings, s => s.Section == "Azure");
        foreach (var (section, name) in settings)
        {
            var type = section == "Llm" ? typeof(LlmOptions) : typeof(AimsAzureOptions);
            var property = type.GetProperty(name, BindingFlags.Public | BindingFlags.Instance);
            Assert.True(property is { CanWrite: true }, $"Aims__{section}__{name} binds to no settable property of {type.Name}");
        }
    }

    [GeneratedRegex(@"name: 'Aims__(Llm|Azure)__(\w+)'")]
    private static partial Regex AppSetting();
}
