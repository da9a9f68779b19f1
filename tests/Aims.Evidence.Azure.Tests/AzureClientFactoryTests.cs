using Aims.Evidence.Azure.Configuration;
using Aims.Evidence.Hosting;
using Microsoft.Extensions.Configuration;

namespace Aims.Evidence.Azure.Tests;

public sealed class AzureClientFactoryTests
{
    private static AzureClientFactory Factory(Dictionary<string, string?> values)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(values).Build();
        return new AzureClientFactory(configuration, AimsComposition.BindSection<AimsAzureOptions>(configuration, AimsAzureOptions.SectionName));
    }

    [Fact]
    public void Binds_the_Aims_Azure_section()
    {
        var factory = Factory(new()
        {
            ["Aims:Azure:SearchEndpoint"] = "https://srch.search.windows.net",
            ["Aims:Azure:SearchIndexName"] = "custom-index",
            ["Aims:Azure:DocumentIntelligenceEndpoint"] = "https://di.cognitiveservices.azure.com/",
            ["Aims:Azure:DocumentIntelligencePollingInterval"] = "00:00:05",
            ["Aims:Azure:MaxIngestAttempts"] = "4",
        });

        Assert.Equal("custom-index", factory.Options.SearchIndexName);
        Assert.Equal(TimeSpan.FromSeconds(5), factory.Options.DocumentIntelligencePollingInterval);
        Assert.Equal(4, factory.Options.MaxIngestAttempts);
        Assert.Equal("evidence-inbox", factory.Options.InboxContainer);

        var index = factory.CreatePassageIndex(768).BuildIndexDefinition();
        Assert.Equal("custom-index", index.Name);
        Assert.Equal(768, index.Fields.Single(f => f.Name == "vector").VectorSearchDimensions);
        Assert.NotNull(factory.CreateDocumentIntelligenceExtractor());
    }

    [Fact]
    public void Missing_endpoints_fail_with_the_setting_to_add()
    {
        var factory = Factory(new());
        Assert.Contains("DocumentIntelligenceEndpoint", Assert.Throws<InvalidOperationException>(() => factory.CreateDocumentIntelligenceExtractor()).Message, StringComparison.Ordinal);
        Assert.Contains("SearchEndpoint", Assert.Throws<InvalidOperationException>(() => factory.CreateSearchIndexClient()).Message, StringComparison.Ordinal);
        Assert.Contains("AzureWebJobsStorage", Assert.Throws<InvalidOperationException>(() => factory.CreateBlobServiceClient()).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Identity_based_connection_settings_build_clients_without_secrets()
    {
        var factory = Factory(new()
        {
            ["AzureWebJobsStorage:blobServiceUri"] = "https://aimsstore.blob.core.windows.net",
            ["AzureWebJobsStorage:tableServiceUri"] = "https://aimsstore.table.core.windows.net",
            ["AzureWebJobsStorage:credential"] = "managedidentity",
            ["AzureWebJobsStorage:clientId"] = "00000000-0000-0000-0000-000000000001",
            ["Aims:Azure:ManagedIdentityClientId"] = "00000000-0000-0000-0000-000000000001",
        });

        Assert.Equal("aimsstore", factory.CreateBlobServiceClient().AccountName);
        Assert.Equal("aimsstore", factory.CreateTableServiceClient().AccountName);
        Assert.IsType<global::Azure.Identity.ManagedIdentityCredential>(factory.Credential);
    }

    [Fact]
    public void Account_name_alone_derives_the_service_endpoints()
    {
        var factory = Factory(new() { ["AzureWebJobsStorage:accountName"] = "aimsacct" });
        Assert.Equal(new Uri("https://aimsacct.table.core.windows.net"), factory.CreateTableServiceClient().Uri);
        Assert.Equal("aimsacct", factory.CreateBlobServiceClient().AccountName);
        Assert.IsType<global::Azure.Identity.DefaultAzureCredential>(factory.Credential);
    }
}
