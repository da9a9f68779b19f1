using System.Text;
using System.Text.Json.Nodes;
using Aims.Evidence.Api;
using Aims.Evidence.Azure.Tests.Infrastructure;
using Aims.Evidence.Core.Mapping;
using Aims.Evidence.Core.Pipeline;
using Aims.Evidence.Core.Storage;
using Aims.Evidence.Functions;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;

namespace Aims.Evidence.Azure.Tests;

/// <summary>
/// The contract between the two hosts: one Table Storage evidence store (Azurite), filled by the real pipeline as
/// the Functions app registers it; the ASP.NET Core API (MapAimsEvidenceApi on a TestServer) and the HTTP functions
/// (invoked directly with a DefaultHttpContext request, their IResult executed against it) answer each read route
/// with the same status, content type and body.
/// </summary>
[Trait(Tiers.Name, Tiers.Slow)]
public sealed partial class HttpContractTests(AzuriteFixture azurite)
{
    private const string ReaderKey = "contract-reader-key";

    private static readonly SemaphoreSlim Gate = new(1, 1);
    private static Hosts? _hosts;

    public static TheoryData<string> Routes() =>
    [
        "controls",
        "controls?limit=5&kind=control",
        "controls/A.2.2",
        "controls/6.1.2",
        "gaps",
        "gaps?group=A.6&limit=10",
        "coverage",
        "documents",
        "documents?all=true&limit=2",
        "documents/{doc}",
        "search?q=model",
        "search?q=risk%20assessment&limit=3",
        "exports/soa?format=json",
        "exports/soa?format=csv",
        "exports/oscal",
        "frameworks",
        "frameworks/iso27001/coverage",
        "frameworks/nist-ai-rmf/coverage?status=partial",
        "frameworks/eu-ai-act/coverage",
        "frameworks/soc2/coverage",
        "frameworks/iso27001/coverage?status=weak",
        "controls/Z.99",
        "documents/nope",
        "search",
    ];

    [Theory]
    [MemberData(nameof(Routes))]
    public async Task Both_hosts_return_the_same_body(string route)
    {
        azurite.Require();
        var ct = TestContext.Current.CancellationToken;
        var hosts = await GetHostsAsync(azurite, ct);
        route = route.Replace("{doc}", hosts.DocumentId, StringComparison.Ordinal);

        var api = await hosts.Api.GetAsync("/api/v1/" + route, ct);
        var apiBody = await api.Content.ReadAsStringAsync(ct);
        var (fnStatus, fnContentType, fnBody, fnEtag) = await hosts.InvokeFunctionAsync(route, ct);

        Assert.NotEmpty(fnBody);
        Assert.Equal((int)api.StatusCode, fnStatus);
        Assert.Equal(api.Content.Headers.ContentType?.ToString(), fnContentType);
        Assert.Equal(api.Headers.ETag?.ToString(), fnEtag);
        if (route == "exports/oscal")
        {
            // The only volatile fields: a fresh document UUID per export and the generation time of the gap report.
            Assert.True(JsonNode.DeepEquals(NormaliseOscal(apiBody), NormaliseOscal(fnBody)), "OSCAL bodies differ");
        }
        else if (fnStatus >= 400)
        {
            // Problem details carry the request's trace id, which differs per request.
            Assert.True(JsonNode.DeepEquals(WithoutTraceId(apiBody), WithoutTraceId(fnBody)), $"problem bodies differ:\n{apiBody}\n{fnBody}");
        }
        else
        {
            Assert.Equal(apiBody, fnBody);
        }

        if (fnStatus == 200 && fnContentType!.StartsWith("application/json", StringComparison.Ordinal))
        {
            Assert.NotNull(JsonNode.Parse(fnBody));
        }
    }

    [Fact]
    public async Task The_store_holds_real_evidence_so_the_comparison_is_not_vacuous()
    {
        azurite.Require();
        var ct = TestContext.Current.CancellationToken;
        var hosts = await GetHostsAsync(azurite, ct);
        var documents = JsonNode.Parse(await hosts.Api.GetStringAsync("/api/v1/documents", ct))!["items"]!.AsArray();
        Assert.Equal(3, documents.Count);
        var search = JsonNode.Parse(await hosts.Api.GetStringAsync("/api/v1/search?q=model", ct))!["items"]!.AsArray();
        Assert.NotEmpty(search);
        var soa = JsonNode.Parse(await hosts.Api.GetStringAsync("/api/v1/exports/soa?format=json", ct))!["controls"]!.AsArray();
        Assert.Contains(soa, r => r!["evidence"]!.AsArray().Count > 0);

        // Without a key the API refuses; the functions rely on the host's function keys (authLevel in functions.metadata).
        using var anonymous = hosts.Server.CreateClient();
        Assert.Equal(System.Net.HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/api/v1/controls", ct)).StatusCode);
    }

    /// <summary>The evidence pack is a ZIP stamped with the time of the request: the hosts agree on its entries and pages.</summary>
    [Fact]
    public async Task Both_hosts_return_the_same_evidence_pack()
    {
        azurite.Require();
        var ct = TestContext.Current.CancellationToken;
        var hosts = await GetHostsAsync(azurite, ct);
        using var api = await hosts.Api.GetAsync("/api/v1/exports/pack", ct);
        var apiPack = Unzip(await api.Content.ReadAsByteArrayAsync(ct));
        var (status, contentType, body, _) = await hosts.Both.InvokeFunctionBytesAsync(HttpMethods.Get, "exports/pack", null, null, null, (request, _) => hosts.ReadApi.ExportPack(request, ct));
        var fnPack = Unzip(body);

        Assert.Equal(200, (int)api.StatusCode);
        Assert.Equal(200, status);
        Assert.Equal(api.Content.Headers.ContentType?.ToString(), contentType);
        Assert.Equal("application/zip", contentType);
        Assert.Equal(apiPack.Keys.Order(StringComparer.Ordinal), fnPack.Keys.Order(StringComparer.Ordinal));
        Assert.Contains("entries/A.2.2.html", fnPack.Keys);
        foreach (var name in new[] { "index.html", "soa.html", "gaps.html", "documents.html", "soa.json", "entries/A.2.2.html" })
        {
            Assert.Equal(GeneratedAt().Replace(apiPack[name], "Generated (time)"), GeneratedAt().Replace(fnPack[name], "Generated (time)"));
        }

        Assert.Contains("risk-assessment.md", fnPack["documents.html"], StringComparison.Ordinal);
    }

    [System.Text.RegularExpressions.GeneratedRegex("Generated [0-9: -]+ UTC")]
    private static partial System.Text.RegularExpressions.Regex GeneratedAt();

    private static Dictionary<string, string> Unzip(byte[] zip)
    {
        using var archive = new System.IO.Compression.ZipArchive(new MemoryStream(zip), System.IO.Compression.ZipArchiveMode.Read);
        return archive.Entries.ToDictionary(e => e.FullName, e =>
        {
            using var reader = new StreamReader(e.Open(), Encoding.UTF8);
            return reader.ReadToEnd();
        }, StringComparer.Ordinal);
    }

    [Fact]
    public async Task Functions_reject_an_invalid_limit_with_a_problem()
    {
        azurite.Require();
        var ct = TestContext.Current.CancellationToken;
        var hosts = await GetHostsAsync(azurite, ct);
        var (status, contentType, body, _) = await hosts.InvokeFunctionAsync("controls?limit=abc", ct);
        Assert.Equal(400, status);
        Assert.StartsWith("application/problem+json", contentType, StringComparison.Ordinal);
        Assert.Equal("Invalid limit", JsonNode.Parse(body)!["title"]!.GetValue<string>());
    }

    private static JsonNode NormaliseOscal(string body)
    {
        var node = JsonNode.Parse(body)!;
        var results = node["assessment-results"]!.AsObject();
        results["uuid"] = "normalised";
        results["metadata"]!["last-modified"] = "normalised";
        return node;
    }

    private static JsonObject WithoutTraceId(string body)
    {
        var node = JsonNode.Parse(body)!.AsObject();
        node.Remove("traceId");
        return node;
    }

    private static async Task<Hosts> GetHostsAsync(AzuriteFixture azurite, CancellationToken ct)
    {
        await Gate.WaitAsync(ct);
        try
        {
            return _hosts ??= await Hosts.CreateAsync(azurite, ct);
        }
        finally
        {
            Gate.Release();
        }
    }

    /// <summary>Three small documents, generated here, of the kinds an AIMS holds.</summary>
    private static readonly (string Name, string Text)[] Documents =
    [
        ("ai-policy.md", "# Artificial intelligence policy\n\n## Purpose\n\nThis policy sets the direction of Contoso Lending for the responsible development and use of AI systems. It is approved by the board and reviewed every year.\n\n## Commitments\n\nTop management commits to meet applicable legal requirements, to assess the impact of AI systems on individuals and groups, and to continually improve the AI management system. Roles and responsibilities for AI are assigned to named owners.\n"),
        ("model-card.md", "# Model card\n\n## Intended use\n\nThe credit pre-screening model is intended to rank consumer loan applications for manual review by trained underwriters. It must not be used to make automated final credit decisions or for employment screening.\n\n## Evaluation\n\nThe model was validated on a held-out test set of 40,000 applications; AUC was 0.81 and approval-rate differences between age groups stayed within the four-fifths threshold.\n"),
        ("risk-assessment.md", "# AI risk assessment\n\n## Method\n\nAI risks are identified for each AI system, analysed for likelihood and consequence, and evaluated against the risk criteria approved by management. The risk assessment is repeated at planned intervals and when significant changes occur.\n\n## Treatment\n\nFor each risk above the acceptance threshold a treatment plan names controls, an owner and a due date. Residual risks are accepted by the system owner.\n"),
    ];

    private sealed class Hosts
    {
        public required ContractHosts Both { get; init; }

        public required ReadApiFunctions ReadApi { get; init; }

        public required string DocumentId { get; init; }

        public HttpClient Api => Both.Api;

        public TestServer Server => Both.App.GetTestServer();

        public static async Task<Hosts> CreateAsync(AzuriteFixture azurite, CancellationToken ct)
        {
            // Keys from a key-only review store: the read routes need one reader key.
            var both = await ContractHosts.CreateAsync(azurite, new Dictionary<string, string?>(), _ => { }, _ => new KeyOnlyReviewStore(), ct);
            both.Api.DefaultRequestHeaders.Add(ApiKeyAuthenticationHandler.HeaderName, ReaderKey);

            // Filled by the Functions app's own pipeline; the API reads the very same store.
            var ingestor = both.Functions.GetRequiredService<IDocumentIngestor>();
            foreach (var (name, text) in Documents)
            {
                var outcome = await ingestor.IngestAsync(name, Encoding.UTF8.GetBytes(text), ct);
                Assert.Equal(IngestStatus.Processed, outcome.Status);
            }

            var store = both.Functions.GetRequiredService<IEvidenceStore>();
            var documentId = (await store.ListDocumentsAsync(false, ct)).OrderBy(d => d.Name, StringComparer.Ordinal).First().Id;
            return new Hosts
            {
                Both = both,
                ReadApi = ActivatorUtilities.CreateInstance<ReadApiFunctions>(both.Functions),
                DocumentId = documentId,
            };
        }

        /// <summary>Calls the read function for the route.</summary>
        public Task<(int Status, string? ContentType, string Body, string? ETag)> InvokeFunctionAsync(string route, CancellationToken ct) =>
            Both.InvokeFunctionAsync(HttpMethods.Get, route, null, null, null, async (request, segments) => segments switch
            {
                ["controls"] => await ReadApi.ListControls(request, ct),
                ["controls", var id] => await ReadApi.GetControl(request, id, ct),
                ["gaps"] => await ReadApi.ListGaps(request, ct),
                ["coverage"] => await ReadApi.GetCoverage(request, ct),
                ["documents"] => await ReadApi.ListDocuments(request, ct),
                ["documents", var id] => await ReadApi.GetDocument(request, id, ct),
                ["search"] => await ReadApi.Search(request, ct),
                ["exports", "soa"] => await ReadApi.ExportSoa(request, ct),
                ["exports", "oscal"] => await ReadApi.ExportOscal(request, ct),
                ["frameworks"] => ReadApiFunctions.ListFrameworks(request),
                ["frameworks", var id, "coverage"] => await ReadApi.GetFrameworkCoverage(request, id, ct),
                _ => throw new ArgumentException("no function for " + route, nameof(route)),
            });
    }

    /// <summary>The API authenticates X-Api-Key through IReviewStore; for the read routes the test holds one reader key (the write routes' key table: WriteRoutesContractTests).</summary>
    private sealed class KeyOnlyReviewStore : IReviewStore
    {
        public Task<ApiKeyRecord?> FindApiKeyAsync(string keySha256, CancellationToken cancellationToken = default) =>
            Task.FromResult(keySha256 == ApiKeys.Hash(ReaderKey) ? new ApiKeyRecord("contract-reader", ApiRole.Reader, DateTimeOffset.UnixEpoch) : null);

        public Task<MappingRecord?> GetMappingAsync(string id, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public Task<PassageRecord?> GetPassageAsync(string id, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public Task<MappingRecord?> ReviewMappingAsync(string mappingId, ReviewState state, string actor, string? comment, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public Task<MappingRecord?> AcceptWithPolarityAsync(string mappingId, MappingPolarity polarity, string actor, string? comment, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public Task<MappingRecord?> AddManualMappingAsync(string passageId, string controlId, string rationale, string actor, MappingPolarity polarity, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public Task<IReadOnlyList<Core.Mapping.Feedback.ReviewDecision>> ListReviewDecisionsAsync(CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public Task<int> ReplaceSuggestionsAsync(IReadOnlyList<(string PassageId, IReadOnlyList<Core.Mapping.MappingSuggestion> Suggestions)> suggestions, string profileVersion, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public Task<DocumentRecord?> SetEffectiveDateAsync(string documentId, DateOnly? effectiveDate, string actor, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public Task<IReadOnlyList<AuditEntry>> ListAuditAsync(long afterId = 0, int limit = 100, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public Task AppendAuditAsync(string actor, string action, string target, object? after, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public Task<(ApiKeyRecord Record, string Key)> CreateApiKeyAsync(ApiRole role, string actor, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public Task<ApiKeyRecord?> RevokeApiKeyAsync(string id, string actor, CancellationToken cancellationToken = default) => throw new NotSupportedException();
    }
}
