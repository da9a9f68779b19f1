using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Aims.Evidence.Azure.Search;
using Aims.Evidence.Azure.Tables;
using Aims.Evidence.Azure.Tests.Infrastructure;
using Aims.Evidence.Core.Storage;
using Aims.Evidence.Functions;
using Aims.Evidence.Onnx;
using Azure.Storage.Blobs;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Aims.Evidence.Azure.Tests;

/// <summary>
/// The Functions app as registered by AddAimsFunctions with Azure AI Search configured: real blobs and tables in
/// Azurite, the real Azure.Search.Documents client against <see cref="FakeSearchService"/>, the bundled embedding
/// model for the vector field. A blob through <see cref="IngestBlobFunction"/> ends in Table Storage and in the index.
/// </summary>
[Trait(Tiers.Name, Tiers.Slow)]
public sealed class SearchIngestionTests(AzuriteFixture azurite)
{
    // One model instance for the class: loading the ONNX model per test would only cost time. Never disposed by the
    // containers (registered as an instance).
    private static readonly LocalEmbeddingGenerator Generator = new();

    // The index stores mappings with enums by name (issue 17): read them the same way.
    private static readonly System.Text.Json.JsonSerializerOptions WebJson = new(System.Text.Json.JsonSerializerDefaults.Web)
    {
        Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter(System.Text.Json.JsonNamingPolicy.CamelCase) },
    };

    private const string ModelCardV1 = "# Model card\n\n## Intended use\n\nThe credit pre-screening model is intended to rank consumer loan applications for manual review by trained underwriters. It must not be used to make automated final credit decisions or for employment screening.\n\n## Evaluation\n\nThe model was validated on a held-out test set of 40,000 applications; AUC was 0.81 and approval-rate differences between age groups stayed within the four-fifths threshold.\n";

    private const string ModelCardV2 = "# Model card\n\n## Intended use\n\nThe credit pre-screening model ranks consumer loan applications for manual review by trained underwriters. Automated final credit decisions and employment screening are out of scope.\n\n## Monitoring\n\nDrift in approval rates between age groups is monitored monthly and reported to the model risk committee; retraining needs the committee's approval.\n";

    private const string RiskAssessment = "# AI risk assessment\n\n## Method\n\nAI risks are identified for each AI system, analysed for likelihood and consequence, and evaluated against the risk criteria approved by management. The risk assessment is repeated at planned intervals and when significant changes occur.\n\n## Treatment\n\nFor each risk above the acceptance threshold a treatment plan names controls, an owner and a due date. Residual risks are accepted by the system owner.\n";

    private sealed record App(ServiceProvider Services, IngestBlobFunction Function, IEvidenceStore Store, IngestionStatusTable Status) : IDisposable
    {
        public void Dispose() => Services.Dispose();
    }

    private App Start(FakeSearchService search, int maxAttempts = 3)
    {
        azurite.Require();
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["AzureWebJobsStorage"] = azurite.ConnectionString,
            ["Aims:Azure:TablePrefix"] = AzuriteFixture.UniquePrefix(),
            ["Aims:Azure:MaxIngestAttempts"] = maxAttempts.ToString(CultureInfo.InvariantCulture),
            ["Aims:Azure:SearchEndpoint"] = FakeSearchService.Endpoint.ToString(),
            ["Aims:Azure:SearchIndexName"] = "aims-passages",
            ["Aims:Azure:SearchKey"] = "local-fake-search-key",
        }).Build();
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton<IEmbeddingGenerator<string, Embedding<float>>>(Generator);
        services.AddSingleton(search.ClientOptions());
        services.AddAimsFunctions(configuration);
        services.AddSingleton<IngestBlobFunction>();
        var provider = services.BuildServiceProvider();
        return new App(provider, provider.GetRequiredService<IngestBlobFunction>(), provider.GetRequiredService<IEvidenceStore>(), provider.GetRequiredService<IngestionStatusTable>());
    }

    private async Task<BlobClient> UploadAsync(string name, string text)
    {
        var ct = TestContext.Current.CancellationToken;
        var container = azurite.Blobs().GetBlobContainerClient("evidence-inbox");
        await container.CreateIfNotExistsAsync(cancellationToken: ct);
        var blob = container.GetBlobClient(name);
        await blob.UploadAsync(BinaryData.FromString(text), overwrite: true, ct);
        return blob;
    }

    private static string UniqueName(string file) => $"{Guid.NewGuid():N}/{file}";

    [Fact]
    public async Task A_blob_through_the_trigger_ends_with_its_passages_in_the_index()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var search = new FakeSearchService();
        using var app = Start(search);
        var name = UniqueName("model-card.md");
        var blob = await UploadAsync(name, ModelCardV1);

        Assert.Equal(IngestionStates.Processed, await app.Function.IngestAsync(blob, name, ct));

        var doc = await app.Store.GetCurrentByNameAsync(name, ct);
        Assert.NotNull(doc);
        var passages = await app.Store.GetPassagesAsync(doc.Id, ct);
        Assert.NotEmpty(passages);
        Assert.Contains(passages, p => p.Mappings.Count > 0);

        // The schema was written before the first batch, with the vector length of the configured model.
        var vectorField = search.IndexDefinition!["fields"]!.AsArray().Single(f => f!["name"]!.GetValue<string>() == "vector")!;
        Assert.Equal(384, vectorField["dimensions"]!.GetValue<int>());

        var indexed = search.Documents;
        Assert.Equal(passages.Select(p => AzureAiSearchPassageIndex.EncodeKey(p.Passage.Id)).Order(StringComparer.Ordinal), indexed.Keys.Order(StringComparer.Ordinal));
        foreach (var p in passages)
        {
            var d = indexed[AzureAiSearchPassageIndex.EncodeKey(p.Passage.Id)];
            Assert.Equal(p.Passage.Id, d["passageId"]!.GetValue<string>());
            Assert.Equal(doc.Id, d["documentId"]!.GetValue<string>());
            Assert.Equal(p.Passage.Text, d["text"]!.GetValue<string>());
            Assert.Equal(384, d["vector"]!.AsArray().Count);
            Assert.Equal(
                p.Mappings.Where(m => m.Review != ReviewState.Rejected).Select(m => m.ControlId).Distinct().Order(StringComparer.Ordinal),
                d["controlIds"]!.AsArray().Select(c => c!.GetValue<string>()).Order(StringComparer.Ordinal));
            Assert.Equal("model-card", d["docType"]!.GetValue<string>());
            Assert.Equal("processed", d["status"]!.GetValue<string>());
            Assert.True(d["isCurrent"]!.GetValue<bool>());
            Assert.Equal(doc.IngestedAt, DateTimeOffset.Parse(d["ingestedAt"]!.GetValue<string>(), CultureInfo.InvariantCulture));
        }

        var status = await app.Status.GetAsync(name, ct);
        Assert.Equal(IngestionStates.Processed, status?.State);
        Assert.Contains($"search: {passages.Count} passages indexed, 0 superseded", status?.Outcome, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_redelivered_event_uploads_nothing_and_changes_nothing()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var search = new FakeSearchService();
        using var app = Start(search);
        var name = UniqueName("risk-assessment.md");
        var blob = await UploadAsync(name, RiskAssessment);
        Assert.Equal(IngestionStates.Processed, await app.Function.IngestAsync(blob, name, ct));
        var before = search.Documents;
        var batches = search.IndexRequests.Count;
        Assert.NotEmpty(before);

        Assert.Equal(IngestionStates.Processed, await app.Function.IngestAsync(blob, name, ct));
        Assert.Equal(IngestionStates.Processed, await app.Function.IngestAsync(blob, name, ct));

        Assert.Equal(batches, search.IndexRequests.Count);
        var after = search.Documents;
        Assert.Equal(before.Keys.Order(StringComparer.Ordinal), after.Keys.Order(StringComparer.Ordinal));
        Assert.All(before, kv => Assert.True(JsonNode.DeepEquals(kv.Value, after[kv.Key]), kv.Key));
        Assert.Single(await app.Store.GetVersionsAsync(name, ct));
    }

    [Fact]
    public async Task A_new_version_supersedes_the_old_passages_in_the_index()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var search = new FakeSearchService();
        using var app = Start(search);
        var name = UniqueName("model-card.md");
        var blob = await UploadAsync(name, ModelCardV1);
        Assert.Equal(IngestionStates.Processed, await app.Function.IngestAsync(blob, name, ct));
        var v1 = (await app.Store.GetCurrentByNameAsync(name, ct))!;
        var v1Keys = (await app.Store.GetPassagesAsync(v1.Id, ct)).Select(p => AzureAiSearchPassageIndex.EncodeKey(p.Passage.Id)).ToList();

        await blob.UploadAsync(BinaryData.FromString(ModelCardV2), overwrite: true, ct);
        Assert.Equal(IngestionStates.Processed, await app.Function.IngestAsync(blob, name, ct));
        var v2 = (await app.Store.GetCurrentByNameAsync(name, ct))!;
        Assert.Equal(2, v2.Version);
        var v2Keys = (await app.Store.GetPassagesAsync(v2.Id, ct)).Select(p => AzureAiSearchPassageIndex.EncodeKey(p.Passage.Id)).ToList();

        var indexed = search.Documents;
        Assert.Equal(v1Keys.Count + v2Keys.Count, indexed.Count);
        Assert.All(v1Keys, k => Assert.False(indexed[k]["isCurrent"]!.GetValue<bool>()));
        Assert.All(v2Keys, k => Assert.True(indexed[k]["isCurrent"]!.GetValue<bool>()));

        // The merge kept the superseded passages' text (history), only the flag changed.
        Assert.All(v1Keys, k => Assert.Equal(v1.Id, indexed[k]["documentId"]!.GetValue<string>()));
        var status = await app.Status.GetAsync(name, ct);
        Assert.Contains($"{v1Keys.Count} superseded", status?.Outcome, StringComparison.Ordinal);

        // The search route returns the current version only.
        var (code, body) = await SearchRouteAsync(app, "?q=model%20approval&limit=50", ct);
        Assert.Equal(200, code);
        var items = JsonNode.Parse(body)!["items"]!.AsArray();
        Assert.NotEmpty(items);
        Assert.All(items, i => Assert.Equal(v2.Id, i!["documentId"]!.GetValue<string>()));
    }

    [Fact]
    public async Task A_throttled_batch_is_retried_by_the_client_and_succeeds()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var search = new FakeSearchService();
        var batches = 0;
        search.Fault = r => r.PathAndQuery.Contains("/docs/search.index", StringComparison.Ordinal) && Interlocked.Increment(ref batches) == 1 ? 429 : null;
        using var app = Start(search);
        var name = UniqueName("model-card.md");
        var blob = await UploadAsync(name, ModelCardV1);

        Assert.Equal(IngestionStates.Processed, await app.Function.IngestAsync(blob, name, ct));

        Assert.Equal(2, search.IndexRequests.Count); // the 429, then the same batch again
        Assert.NotEmpty(search.Documents);
        Assert.Equal(1, (await app.Status.GetAsync(name, ct))?.Attempts);
    }

    [Fact]
    public async Task An_index_outage_is_retried_by_redelivery_and_the_stored_version_is_indexed_then()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var search = new FakeSearchService();
        var outage = true;
        search.Fault = r => Volatile.Read(ref outage) && r.PathAndQuery.Contains("/docs/search.index", StringComparison.Ordinal) ? 503 : null;
        using var app = Start(search);
        var name = UniqueName("risk-assessment.md");
        var blob = await UploadAsync(name, RiskAssessment);

        // Attempt 1: the store commits, the index answers 503 to the first try and both client retries: rethrown for redelivery.
        var error = await Assert.ThrowsAsync<SearchIndexingException>(() => app.Function.IngestAsync(blob, name, ct));
        Assert.Contains("HTTP 503", error.Message, StringComparison.Ordinal);
        Assert.Equal(3, search.IndexRequests.Count);
        Assert.Empty(search.Documents);
        var retrying = await app.Status.GetAsync(name, ct);
        Assert.Equal(IngestionStates.Retrying, retrying?.State);
        Assert.Contains("Azure AI Search", retrying?.LastError, StringComparison.Ordinal);
        var stored = await app.Store.GetCurrentByNameAsync(name, ct);
        Assert.NotNull(stored);

        // Attempt 2 after the outage: the version is already in the store (unchanged), its passages go to the index.
        Volatile.Write(ref outage, false);
        Assert.Equal(IngestionStates.Processed, await app.Function.IngestAsync(blob, name, ct));
        var passages = await app.Store.GetPassagesAsync(stored.Id, ct);
        Assert.Equal(passages.Count, search.Documents.Count);
        Assert.Single(await app.Store.GetVersionsAsync(name, ct));
        var status = await app.Status.GetAsync(name, ct);
        Assert.Equal(2, status?.Attempts);
        Assert.StartsWith("unchanged", status?.Outcome, StringComparison.Ordinal);
        Assert.Contains($"search: {passages.Count} passages indexed", status?.Outcome, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_lasting_index_outage_is_recorded_failed_in_the_status_table()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var search = new FakeSearchService();
        search.Fault = r => r.PathAndQuery.Contains("/docs/search.index", StringComparison.Ordinal) ? 503 : null;
        using var app = Start(search, maxAttempts: 2);
        var name = UniqueName("model-card.md");
        var blob = await UploadAsync(name, ModelCardV1);

        await Assert.ThrowsAsync<SearchIndexingException>(() => app.Function.IngestAsync(blob, name, ct));
        Assert.Equal(IngestionStates.Failed, await app.Function.IngestAsync(blob, name, ct));

        var status = await app.Status.GetAsync(name, ct);
        Assert.Equal(IngestionStates.Failed, status?.State);
        Assert.Equal(2, status?.Attempts);
        Assert.Contains("SearchIndexingException", status?.LastError, StringComparison.Ordinal);
        Assert.Contains("HTTP 503", status?.LastError, StringComparison.Ordinal);
        Assert.Equal(6, search.IndexRequests.Count); // 2 deliveries x (1 + 2 client retries)

        // Given up: a further delivery of the same bytes does not try again.
        Assert.Equal(IngestionStates.Failed, await app.Function.IngestAsync(blob, name, ct));
        Assert.Equal(6, search.IndexRequests.Count);
    }

    [Fact]
    public async Task The_search_route_queries_the_index_hybrid_with_filters()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var search = new FakeSearchService();
        using var app = Start(search);
        foreach (var (file, text) in new[] { ("model-card.md", ModelCardV1), ("risk-assessment.md", RiskAssessment) })
        {
            var name = UniqueName(file);
            Assert.Equal(IngestionStates.Processed, await app.Function.IngestAsync(await UploadAsync(name, text), name, ct));
        }

        Assert.IsType<AzureAiSearchPassageIndex>(app.Services.GetRequiredService<IPassageIndex>());
        var (code, body) = await SearchRouteAsync(app, "?q=risk%20treatment&docType=risk-assessment&limit=3", ct);
        Assert.Equal(200, code);

        // The request the route sent: keyword text, the vector of the query (the model's 384 dimensions) and the filters.
        var request = JsonNode.Parse(search.SearchRequests[^1].Body)!;
        Assert.Equal("risk treatment", request["search"]!.GetValue<string>());
        Assert.Equal("isCurrent eq true and docType eq 'risk-assessment'", request["filter"]!.GetValue<string>());
        Assert.Equal(384, request["vectorQueries"]![0]!["vector"]!.AsArray().Count);

        // The answer: the API's page of SearchResult, every hit from the index and of the filtered type.
        var page = JsonNode.Parse(body)!.AsObject();
        Assert.Equal(["items", "continuationToken", "limit"], page.Select(kv => kv.Key));
        var items = page["items"]!.AsArray();
        Assert.InRange(items.Count, 1, 3);
        var indexedIds = search.Documents.Values.Select(d => d["passageId"]!.GetValue<string>()).ToHashSet();
        foreach (var item in items)
        {
            Assert.Equal(
                ["score", "documentId", "documentName", "docType", "page", "headings", "passageId", "text", "mappings", "rowStart", "rowEnd", "display"],
                item!.AsObject().Select(kv => kv.Key));
            Assert.Contains(item["passageId"]!.GetValue<string>(), indexedIds);
            Assert.Equal("risk-assessment", item["docType"]!.GetValue<string>());
        }

        // A control filter reaches the index as a collection filter.
        var control = search.Documents.Values.SelectMany(d => d["controlIds"]!.AsArray().Select(c => c!.GetValue<string>())).First();
        (code, body) = await SearchRouteAsync(app, "?q=model&control=" + Uri.EscapeDataString(control), ct);
        Assert.Equal(200, code);
        Assert.Equal($"isCurrent eq true and controlIds/any(c: c eq '{control}')", JsonNode.Parse(search.SearchRequests[^1].Body)!["filter"]!.GetValue<string>());
        Assert.All(JsonNode.Parse(body)!["items"]!.AsArray(), i => Assert.Contains(i!["mappings"]!.AsArray(), m => m!["controlId"]!.GetValue<string>() == control));
    }

    [Fact]
    public async Task A_review_through_the_function_refreshes_the_passage_in_the_index()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var search = new FakeSearchService();
        using var app = Start(search);
        var name = UniqueName("risk-assessment.md");
        Assert.Equal(IngestionStates.Processed, await app.Function.IngestAsync(await UploadAsync(name, RiskAssessment), name, ct));
        var doc = (await app.Store.GetCurrentByNameAsync(name, ct))!;
        var passage = (await app.Store.GetPassagesAsync(doc.Id, ct)).First(p => p.Mappings.Count > 0);
        var mapping = passage.Mappings[0];
        var key = AzureAiSearchPassageIndex.EncodeKey(passage.Passage.Id);
        var vectorBefore = search.Documents[key]["vector"]!.ToJsonString();
        Assert.Contains(mapping.ControlId, search.Documents[key]["controlIds"]!.AsArray().Select(c => c!.GetValue<string>()));

        var reviewer = (await app.Services.GetRequiredService<TableApiKeyStore>().CreateAsync(ApiRole.Reviewer, "test", ct)).Key;
        using var scope = app.Services.CreateScope();
        var context = new DefaultHttpContext { RequestServices = scope.ServiceProvider };
        context.Request.Method = HttpMethods.Post;
        context.Request.ContentType = "application/json";
        var body = Encoding.UTF8.GetBytes("""{"decision":"reject"}""");
        context.Request.Body = new MemoryStream(body);
        context.Request.ContentLength = body.Length;
        context.Request.Headers["X-Api-Key"] = reviewer;
        context.Response.Body = new MemoryStream();
        var result = await ActivatorUtilities.CreateInstance<WriteApiFunctions>(scope.ServiceProvider).ReviewMapping(context.Request, mapping.Id, ct);
        await result.ExecuteAsync(context);
        Assert.Equal(200, context.Response.StatusCode);

        // The index follows the store: the rejected control leaves controlIds, the mapping JSON says rejected, the vector stays.
        var after = search.Documents[key];
        Assert.DoesNotContain(mapping.ControlId, after["controlIds"]!.AsArray().Select(c => c!.GetValue<string>()));
        var indexedMappings = System.Text.Json.JsonSerializer.Deserialize<List<MappingRecord>>(
            after["mappingsJson"]!.GetValue<string>(), WebJson)!;
        Assert.Equal(ReviewState.Rejected, indexedMappings.Single(m => m.Id == mapping.Id).Review);
        Assert.Equal(vectorBefore, after["vector"]!.ToJsonString());
    }

    [Fact]
    public async Task A_manual_mapping_and_an_effective_date_through_the_functions_refresh_the_index()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var search = new FakeSearchService();
        using var app = Start(search);
        var name = UniqueName("risk-assessment.md");
        Assert.Equal(IngestionStates.Processed, await app.Function.IngestAsync(await UploadAsync(name, RiskAssessment), name, ct));
        var doc = (await app.Store.GetCurrentByNameAsync(name, ct))!;
        var passages = await app.Store.GetPassagesAsync(doc.Id, ct);
        var passage = passages[0].Passage;
        var key = AzureAiSearchPassageIndex.EncodeKey(passage.Id);
        var vectorBefore = search.Documents[key]["vector"]!.ToJsonString();
        Assert.DoesNotContain("A.9.4", search.Documents[key]["controlIds"]!.AsArray().Select(c => c!.GetValue<string>()));
        var reviewer = (await app.Services.GetRequiredService<TableApiKeyStore>().CreateAsync(ApiRole.Reviewer, "test", ct)).Key;

        async Task<int> CallAsync(string method, string json, Func<WriteApiFunctions, HttpRequest, Task<IResult>> function)
        {
            using var scope = app.Services.CreateScope();
            var context = new DefaultHttpContext { RequestServices = scope.ServiceProvider };
            context.Request.Method = method;
            context.Request.ContentType = "application/json";
            var body = Encoding.UTF8.GetBytes(json);
            context.Request.Body = new MemoryStream(body);
            context.Request.ContentLength = body.Length;
            context.Request.Headers["X-Api-Key"] = reviewer;
            context.Response.Body = new MemoryStream();
            var result = await function(ActivatorUtilities.CreateInstance<WriteApiFunctions>(scope.ServiceProvider), context.Request);
            await result.ExecuteAsync(context);
            return context.Response.StatusCode;
        }

        // A manual mapping: the passage's controlIds gain the control, the vector stays.
        Assert.Equal(201, await CallAsync(HttpMethods.Post, """{"controlId":"A.9.4"}""", (f, r) => f.AddManualMapping(r, passage.Id, ct)));
        Assert.Contains("A.9.4", search.Documents[key]["controlIds"]!.AsArray().Select(c => c!.GetValue<string>()));
        Assert.Equal(vectorBefore, search.Documents[key]["vector"]!.ToJsonString());

        // An effective date: every passage of the document carries it in the index.
        Assert.Equal(200, await CallAsync(HttpMethods.Put, """{"effectiveDate":"2026-04-01"}""", (f, r) => f.SetEffectiveDate(r, doc.Id, ct)));
        foreach (var p in passages)
        {
            var indexed = search.Documents[AzureAiSearchPassageIndex.EncodeKey(p.Passage.Id)];
            Assert.StartsWith("2026-04-01", indexed["effectiveDate"]!.GetValue<string>(), StringComparison.Ordinal);
        }

        Assert.Equal(vectorBefore, search.Documents[key]["vector"]!.ToJsonString());
    }

    [Fact]
    public async Task Vectors_that_do_not_fit_the_index_are_refused_before_any_upload()
    {
        var ct = TestContext.Current.CancellationToken;
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => SearchIndexer.EmbedQueryAsync(Generator, 1536, "AI policy objectives", ct));
        Assert.Contains("returns 384 dimensions but the index vector field has 1536", error.Message, StringComparison.Ordinal);
        Assert.Equal(384, (await SearchIndexer.EmbedQueryAsync(Generator, 384, "AI policy objectives", ct))!.Value.Length);
        Assert.Null(await SearchIndexer.EmbedQueryAsync(null, 384, "AI policy objectives", ct));
    }

    /// <summary>Invokes the Search function as the worker would and executes its IResult.</summary>
    private static async Task<(int Status, string Body)> SearchRouteAsync(App app, string query, CancellationToken ct)
    {
        using var scope = app.Services.CreateScope();
        var context = new DefaultHttpContext { RequestServices = scope.ServiceProvider };
        context.Request.Method = HttpMethods.Get;
        context.Request.Scheme = "https";
        context.Request.Host = new HostString("localhost");
        context.Request.Path = "/api/v1/search";
        context.Request.QueryString = new QueryString(query);
        using var body = new MemoryStream();
        context.Response.Body = body;
        var functions = ActivatorUtilities.CreateInstance<ReadApiFunctions>(scope.ServiceProvider);
        var result = await functions.Search(context.Request, ct);
        await result.ExecuteAsync(context);
        return (context.Response.StatusCode, Encoding.UTF8.GetString(body.ToArray()));
    }
}
