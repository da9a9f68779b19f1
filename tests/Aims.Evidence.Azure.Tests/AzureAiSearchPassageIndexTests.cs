using System.Text.Json;
using System.Text.Json.Nodes;
using Aims.Evidence.Azure.Search;
using Aims.Evidence.Azure.Tests.Infrastructure;
using Aims.Evidence.Core.Storage;
using Azure;
using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Search.Documents;
using Azure.Search.Documents.Indexes;

namespace Aims.Evidence.Azure.Tests;

/// <summary>
/// The real Azure.Search.Documents client against a loopback server that speaks the documented REST shapes.
/// The client only accepts https endpoints, so it is given one and <see cref="LoopbackRedirectHandler"/>
/// moves each request to the local http server.
/// </summary>
[Trait(Tiers.Name, Tiers.Integration)]
public sealed class AzureAiSearchPassageIndexTests
{
    private static AzureAiSearchPassageIndex Index(LocalHttpServer server, AzureAiSearchOptions? options = null)
    {
        var clientOptions = new SearchClientOptions
        {
            Transport = new HttpClientTransport(new HttpClient(new LoopbackRedirectHandler(server.Port))),
            Retry = { Mode = RetryMode.Fixed, Delay = TimeSpan.FromMilliseconds(10), MaxRetries = 3 },
        };
        var client = new SearchIndexClient(new Uri("https://aims-test.search.windows.net"), new AzureKeyCredential("test-key-not-a-secret"), clientOptions);
        return new AzureAiSearchPassageIndex(client, options ?? new AzureAiSearchOptions { IndexName = "aims-passages", VectorDimensions = 4, BatchSize = 2 });
    }

    private static DocumentRecord Document => new()
    {
        Id = "doc-1",
        Name = "policies/ai-policy.pdf",
        Sha256 = "abc",
        DocType = "policy",
        Status = DocumentStatus.Processed,
        Version = 2,
        PageCount = 3,
        IngestedAt = new DateTimeOffset(2026, 11, 1, 0, 0, 0, TimeSpan.Zero),
        EffectiveDate = new DateOnly(2026, 10, 1),
    };

    private static PassageWithMappings Passage(int i, params string[] controls) => new(
        new PassageRecord { Id = $"doc-1/p{i}", DocumentId = "doc-1", Ordinal = i, Page = 1, Headings = ["Policy"], Text = $"Passage {i} about the AI policy." },
        controls.Select((c, j) => new MappingRecord { Id = $"m{i}-{j}", PassageId = $"doc-1/p{i}", ControlId = c, Score = 0.7, Method = "lexical" }).ToList());

    [Fact]
    public async Task Creates_the_index_with_vector_profile_and_filterable_fields()
    {
        await using var server = new LocalHttpServer(request => request.Method == "PUT"
            ? ServerReply.Json(201, request.Body)
            : ServerReply.Json(404, """{"error":{"code":"NotFound","message":"no"}}"""));
        var index = Index(server, new AzureAiSearchOptions { IndexName = "aims-passages", VectorDimensions = 384, UseSemanticRanker = true });

        await index.EnsureIndexAsync(TestContext.Current.CancellationToken);

        var put = Assert.Single(server.Requests);
        Assert.Contains("/indexes('aims-passages')", Uri.UnescapeDataString(put.PathAndQuery), StringComparison.Ordinal);
        Assert.Contains("api-version=", put.PathAndQuery, StringComparison.Ordinal);
        Assert.Equal("test-key-not-a-secret", put.Headers["api-key"]);

        var body = JsonNode.Parse(put.Body)!;
        var fields = body["fields"]!.AsArray().ToDictionary(f => f!["name"]!.GetValue<string>(), f => f!);
        Assert.True(fields["id"]["key"]!.GetValue<bool>());
        Assert.True(fields["text"]["searchable"]!.GetValue<bool>());
        Assert.Equal("Collection(Edm.String)", fields["controlIds"]["type"]!.GetValue<string>());
        Assert.True(fields["controlIds"]["filterable"]!.GetValue<bool>());
        Assert.True(fields["controlIds"]["facetable"]!.GetValue<bool>());
        foreach (var name in new[] { "documentId", "docType", "status" })
        {
            Assert.True(fields[name]["filterable"]!.GetValue<bool>());
            Assert.True(fields[name]["facetable"]!.GetValue<bool>());
        }

        Assert.Equal("Edm.DateTimeOffset", fields["ingestedAt"]["type"]!.GetValue<string>());
        Assert.True(fields["effectiveDate"]["filterable"]!.GetValue<bool>());
        Assert.Equal("Collection(Edm.Single)", fields["vector"]["type"]!.GetValue<string>());
        Assert.Equal(384, fields["vector"]["dimensions"]!.GetValue<int>());
        Assert.Equal(AzureAiSearchPassageIndex.VectorProfileName, fields["vector"]["vectorSearchProfile"]!.GetValue<string>());
        Assert.Equal("hnsw", body["vectorSearch"]!["algorithms"]![0]!["kind"]!.GetValue<string>());
        Assert.Equal(AzureAiSearchPassageIndex.SemanticConfigurationName, body["semantic"]!["configurations"]![0]!["name"]!.GetValue<string>());
    }

    [Fact]
    public async Task Uploads_passages_in_batches()
    {
        await using var server = new LocalHttpServer(request =>
        {
            var docs = JsonNode.Parse(request.Body)!["value"]!.AsArray();
            var results = new JsonArray(docs.Select(d => (JsonNode)new JsonObject
            {
                ["key"] = d!["id"]!.GetValue<string>(),
                ["status"] = true,
                ["errorMessage"] = null,
                ["statusCode"] = 201,
            }).ToArray());
            return ServerReply.Json(200, new JsonObject { ["value"] = results }.ToJsonString());
        });
        var index = Index(server);
        var vectors = new Dictionary<string, ReadOnlyMemory<float>> { ["doc-1/p0"] = new float[] { 0.1f, 0.2f, 0.3f, 0.4f } };

        var count = await index.IndexDocumentAsync(Document, [Passage(0, "5.2", "A.2.2"), Passage(1, "5.2"), Passage(2)], vectors, TestContext.Current.CancellationToken);

        Assert.Equal(3, count);
        Assert.Equal(2, server.Requests.Count); // batch size 2
        var first = server.Requests.First();
        Assert.Equal("POST", first.Method);
        Assert.Contains("/docs/search.index", first.PathAndQuery, StringComparison.Ordinal);
        var doc0 = JsonNode.Parse(first.Body)!["value"]![0]!;
        Assert.Equal("mergeOrUpload", doc0["@search.action"]!.GetValue<string>());
        Assert.Equal(AzureAiSearchPassageIndex.EncodeKey("doc-1/p0"), doc0["id"]!.GetValue<string>());
        Assert.Equal(["5.2", "A.2.2"], doc0["controlIds"]!.AsArray().Select(c => c!.GetValue<string>()));
        Assert.Equal(4, doc0["vector"]!.AsArray().Count);
        Assert.Null(JsonNode.Parse(first.Body)!["value"]![1]!["vector"]);
    }

    [Fact]
    public async Task Hybrid_search_sends_text_vector_and_filters_and_retries_a_429()
    {
        var searches = 0;
        await using var server = new LocalHttpServer(request =>
        {
            if (++searches == 1)
            {
                return ServerReply.Json(429, """{"error":{"code":"Throttled","message":"Too many requests"}}""", ("Retry-After", "0"));
            }

            var hit = JsonSerializer.Serialize(AzureAiSearchPassageIndex.ToSearchDocument(Document, Passage(0, "A.2.2")));
            var node = JsonNode.Parse(hit)!.AsObject();
            node["@search.score"] = 0.033;
            return ServerReply.Json(200, new JsonObject { ["value"] = new JsonArray(node) }.ToJsonString());
        });
        var index = Index(server);

        var hits = await index.SearchAsync(
            new SearchQuery("AI policy objectives", ControlId: "A.2.2", DocType: "o'brien's policy", Limit: 5),
            new float[] { 1, 0, 0, 0 },
            TestContext.Current.CancellationToken);

        Assert.Equal(2, searches); // the 429 was retried by the client pipeline
        var request = server.Requests.Last();
        Assert.Contains("/docs/search.post.search", request.PathAndQuery, StringComparison.Ordinal);
        var body = JsonNode.Parse(request.Body)!;
        Assert.Equal("AI policy objectives", body["search"]!.GetValue<string>());
        Assert.Equal("isCurrent eq true and controlIds/any(c: c eq 'A.2.2') and docType eq 'o''brien''s policy'", body["filter"]!.GetValue<string>());
        Assert.Equal(5, body["top"]!.GetValue<int>());
        var vectorQuery = body["vectorQueries"]![0]!;
        Assert.Equal("vector", vectorQuery["kind"]!.GetValue<string>());
        Assert.Equal("vector", vectorQuery["fields"]!.GetValue<string>());
        Assert.Equal(4, vectorQuery["vector"]!.AsArray().Count);

        var hit = Assert.Single(hits);
        Assert.Equal("doc-1/p0", hit.Passage.Id);
        Assert.Equal("policies/ai-policy.pdf", hit.Document.Name);
        Assert.Equal(new DateOnly(2026, 10, 1), hit.Document.EffectiveDate);
        Assert.Equal(0.033, hit.Score, 3);
        Assert.Equal("A.2.2", Assert.Single(hit.Mappings).ControlId);
    }

    [Fact]
    public async Task Text_only_search_sends_no_vector_query()
    {
        await using var server = new LocalHttpServer(_ => ServerReply.Json(200, """{"value":[]}"""));
        var hits = await Index(server).SearchAsync(new SearchQuery("impact assessment"), TestContext.Current.CancellationToken);

        Assert.Empty(hits);
        var body = JsonNode.Parse(server.Requests.Single().Body)!;
        Assert.Null(body["vectorQueries"]);
        Assert.Equal("isCurrent eq true", body["filter"]!.GetValue<string>());
    }

    [Fact]
    public async Task Superseded_passages_are_merged_as_not_current()
    {
        await using var server = new LocalHttpServer(request =>
        {
            var docs = JsonNode.Parse(request.Body)!["value"]!.AsArray();
            var results = new JsonArray(docs.Select(d => (JsonNode)new JsonObject { ["key"] = d!["id"]!.GetValue<string>(), ["status"] = true, ["statusCode"] = 200 }).ToArray());
            return ServerReply.Json(200, new JsonObject { ["value"] = results }.ToJsonString());
        });

        await Index(server).MarkSupersededAsync(["doc-1/p0", "doc-1/p1"], TestContext.Current.CancellationToken);

        var docs = JsonNode.Parse(server.Requests.Single().Body)!["value"]!.AsArray();
        Assert.All(docs, d =>
        {
            Assert.Equal("merge", d!["@search.action"]!.GetValue<string>());
            Assert.False(d["isCurrent"]!.GetValue<bool>());
        });
        Assert.Equal(AzureAiSearchPassageIndex.EncodeKey("doc-1/p1"), docs[1]!["id"]!.GetValue<string>());
    }

    [Fact]
    public async Task Superseding_skips_passages_the_index_never_held_but_not_other_failures()
    {
        await using var missing = new LocalHttpServer(_ => ServerReply.Json(207, """{"value":[{"key":"a","status":true,"statusCode":200},{"key":"b","status":false,"errorMessage":"Document not found.","statusCode":404}]}"""));
        Assert.Equal(1, await Index(missing).MarkSupersededAsync(["doc-1/p0", "doc-1/p1"], TestContext.Current.CancellationToken));

        await using var refused = new LocalHttpServer(_ => ServerReply.Json(207, """{"value":[{"key":"a","status":false,"errorMessage":"Invalid document.","statusCode":400}]}"""));
        var ex = await Assert.ThrowsAsync<RequestFailedException>(() => Index(refused).MarkSupersededAsync(["doc-1/p0"], TestContext.Current.CancellationToken));
        Assert.Equal(400, ex.Status);
        Assert.Contains("Invalid document.", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_rejected_index_action_surfaces_as_an_error()
    {
        await using var server = new LocalHttpServer(_ => ServerReply.Json(207, """{"value":[{"key":"x","status":false,"errorMessage":"Document is too large","statusCode":400}]}"""));

        var ex = await Assert.ThrowsAsync<RequestFailedException>(() => Index(server).IndexDocumentAsync(Document, [Passage(0)], cancellationToken: TestContext.Current.CancellationToken));
        Assert.Contains("Document is too large", ex.Message, StringComparison.Ordinal);
        Assert.Contains("1 of 1 passages", ex.Message, StringComparison.Ordinal);
    }

    private static ServerReply AllIndexed(RecordedRequest request)
    {
        var docs = JsonNode.Parse(request.Body)!["value"]!.AsArray();
        var results = new JsonArray(docs.Select(d => (JsonNode)new JsonObject { ["key"] = d!["id"]!.GetValue<string>(), ["status"] = true, ["statusCode"] = 201 }).ToArray());
        return ServerReply.Json(200, new JsonObject { ["value"] = results }.ToJsonString());
    }

    [Fact]
    public async Task Batches_are_bounded_by_their_serialized_size_also_for_text_the_sdk_escapes()
    {
        // Cyrillic text: the SDK writes each character as a six-byte \uXXXX escape, three times what a 2-bytes-per-char
        // estimate counts. 300 passages of 1,000 characters are about 1.8 MB on the wire; the bound is 256 KB.
        await using var server = new LocalHttpServer(AllIndexed);
        const long Bound = 256 * 1024;
        var index = Index(server, new AzureAiSearchOptions { IndexName = "aims-passages", VectorDimensions = 4, MaxBatchBytes = Bound });
        var cyrillic = string.Concat(Enumerable.Repeat("Политика ИИ ", 84));
        var passages = Enumerable.Range(0, 300).Select(i => new PassageWithMappings(
            new PassageRecord { Id = $"doc-1/p{i}", DocumentId = "doc-1", Ordinal = i, Page = 1, Headings = ["Политика"], Text = cyrillic }, [])).ToArray();

        Assert.Equal(300, await index.IndexDocumentAsync(Document, passages, cancellationToken: TestContext.Current.CancellationToken));

        var bodies = server.Requests.Select(r => System.Text.Encoding.UTF8.GetByteCount(r.Body)).ToArray();
        Assert.True(bodies.Length > 1, "split into several requests");
        Assert.All(bodies, b => Assert.InRange(b, 1, Bound));
        Assert.Equal(300, server.Requests.Sum(r => JsonNode.Parse(r.Body)!["value"]!.AsArray().Count));
        Assert.Contains("\\u", server.Requests.First().Body, StringComparison.Ordinal); // escaped on the wire, as measured
    }

    [Fact]
    public async Task Semantic_ranking_is_asked_for_when_configured_and_not_otherwise()
    {
        await using var server = new LocalHttpServer(_ => ServerReply.Json(200, """{"value":[]}"""));
        await Index(server, new AzureAiSearchOptions { IndexName = "aims-passages", VectorDimensions = 4, UseSemanticRanker = true })
            .SearchAsync(new SearchQuery("impact assessment"), new float[] { 1, 0, 0, 0 }, TestContext.Current.CancellationToken);
        var body = JsonNode.Parse(server.Requests.Single().Body)!;
        Assert.Equal("semantic", body["queryType"]!.GetValue<string>());
        Assert.Equal(AzureAiSearchPassageIndex.SemanticConfigurationName, body["semanticConfiguration"]!.GetValue<string>());

        await using var plain = new LocalHttpServer(_ => ServerReply.Json(200, """{"value":[]}"""));
        await Index(plain).SearchAsync(new SearchQuery("impact assessment"), TestContext.Current.CancellationToken);
        Assert.Null(JsonNode.Parse(plain.Requests.Single().Body)!["queryType"]);
    }

    [Fact]
    public async Task Mappings_are_stored_with_enums_by_name_and_numbers_written_earlier_still_read()
    {
        var passage = new PassageWithMappings(
            new PassageRecord { Id = "doc-1/p0", DocumentId = "doc-1", Ordinal = 0, Page = 1, Headings = ["Audit"], Text = "No management review took place." },
            [new MappingRecord { Id = "m0", PassageId = "doc-1/p0", ControlId = "9.3.1", Score = 0.8, Method = "trained", Review = ReviewState.Accepted, Polarity = Core.Mapping.MappingPolarity.Finding }]);
        var stored = JsonNode.Parse(AzureAiSearchPassageIndex.ToSearchDocument(Document, passage).MappingsJson)!.AsArray()[0]!;
        Assert.Equal("accepted", stored["review"]!.GetValue<string>());
        Assert.Equal("finding", stored["polarity"]!.GetValue<string>());

        // A hit stored by an earlier version (enums as numbers) reads the same.
        await using var server = new LocalHttpServer(_ =>
        {
            var node = JsonNode.Parse(JsonSerializer.Serialize(AzureAiSearchPassageIndex.ToSearchDocument(Document, passage)))!.AsObject();
            node["mappingsJson"] = """[{"id":"m0","passageId":"doc-1/p0","controlId":"9.3.1","score":0.8,"method":"trained","rationale":"","review":1,"polarity":1}]""";
            node["@search.score"] = 1.0;
            return ServerReply.Json(200, new JsonObject { ["value"] = new JsonArray(node) }.ToJsonString());
        });
        var hit = Assert.Single(await Index(server).SearchAsync(new SearchQuery("review"), TestContext.Current.CancellationToken));
        var mapping = Assert.Single(hit.Mappings);
        Assert.Equal(ReviewState.Accepted, mapping.Review);
        Assert.Equal(Core.Mapping.MappingPolarity.Finding, mapping.Polarity);
    }
}
