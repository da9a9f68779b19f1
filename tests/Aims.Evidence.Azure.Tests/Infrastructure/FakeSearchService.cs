using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Search.Documents;

namespace Aims.Evidence.Azure.Tests.Infrastructure;

/// <summary>
/// A stateful stand-in for one Azure AI Search service on a loopback <see cref="LocalHttpServer"/>, speaking the
/// REST shapes the Azure.Search.Documents client sends: index create-or-update (<c>PUT /indexes('name')</c>),
/// document batches (<c>POST .../docs/search.index</c>: upload, merge, mergeOrUpload, delete, with the service's
/// per-document 404 for a merge on a missing key and HTTP 207 for partial failure, and 400 for a vector whose length
/// is not the field's) and queries (<c>POST .../docs/search.post.search</c>: the OData filter forms our adapter
/// writes, keyword matching over the searchable fields and, with a vector query, cosine ranking fused with the keyword
/// ranking by reciprocal rank fusion). The ranking is a simplification of the service's BM25 and HNSW; the filters,
/// keys, payloads and status codes are what the tests assert.
/// </summary>
public sealed partial class FakeSearchService : IAsyncDisposable
{
    public static readonly Uri Endpoint = new("https://aims-fake.search.windows.net");

    private readonly LocalHttpServer _server;
    private readonly ConcurrentDictionary<string, JsonObject> _documents = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();

    public FakeSearchService() => _server = new LocalHttpServer(Handle);

    /// <summary>Answers a request with this status instead of serving it (null: serve it). Called for every request.</summary>
    public Func<RecordedRequest, int?>? Fault { get; set; }

    public JsonObject? IndexDefinition { get; private set; }

    public ConcurrentQueue<RecordedRequest> Requests => _server.Requests;

    /// <summary>Document batches received (including failed ones).</summary>
    public IReadOnlyList<RecordedRequest> IndexRequests => Requests.Where(r => r.PathAndQuery.Contains("/docs/search.index", StringComparison.Ordinal)).ToList();

    public IReadOnlyList<RecordedRequest> SearchRequests => Requests.Where(r => r.PathAndQuery.Contains("/docs/search.post.search", StringComparison.Ordinal)).ToList();

    /// <summary>A copy of the stored documents by key.</summary>
    public IReadOnlyDictionary<string, JsonObject> Documents
    {
        get
        {
            lock (_lock)
            {
                return _documents.ToDictionary(kv => kv.Key, kv => (JsonObject)kv.Value.DeepClone(), StringComparer.Ordinal);
            }
        }
    }

    /// <summary>Client options that send the client's https requests to this server, with quick fixed-delay retries.</summary>
    public SearchClientOptions ClientOptions(int maxRetries = 2) => new()
    {
        Transport = new HttpClientTransport(new HttpClient(new LoopbackRedirectHandler(_server.Port))),
        Retry = { Mode = RetryMode.Fixed, Delay = TimeSpan.FromMilliseconds(5), MaxRetries = maxRetries },
    };

    public ValueTask DisposeAsync() => _server.DisposeAsync();

    private ServerReply Handle(RecordedRequest request)
    {
        if (Fault?.Invoke(request) is { } status)
        {
            return ServerReply.Json(status, $$$"""{"error":{"code":"Fault{{{status}}}","message":"Scripted failure {{{status}}}"}}""", ("Retry-After", "0"));
        }

        var path = Uri.UnescapeDataString(request.PathAndQuery.Split('?')[0]);
        lock (_lock)
        {
            if (request.Method == "PUT" && IndexPath().IsMatch(path))
            {
                var created = IndexDefinition is null;
                IndexDefinition = JsonNode.Parse(request.Body)!.AsObject();
                return ServerReply.Json(created ? 201 : 200, request.Body);
            }

            if (IndexDefinition is null)
            {
                return ServerReply.Json(404, """{"error":{"code":"","message":"The index 'aims-passages' for service 'aims-fake' was not found."}}""");
            }

            if (request.Method == "POST" && path.EndsWith("/docs/search.index", StringComparison.Ordinal))
            {
                return IndexDocuments(JsonNode.Parse(request.Body)!["value"]!.AsArray());
            }

            if (request.Method == "POST" && path.EndsWith("/docs/search.post.search", StringComparison.Ordinal))
            {
                return Search(JsonNode.Parse(request.Body)!.AsObject());
            }
        }

        return ServerReply.Json(404, """{"error":{"code":"NotFound","message":"No route."}}""");
    }

    private ServerReply IndexDocuments(JsonArray actions)
    {
        var dimensions = IndexDefinition!["fields"]!.AsArray().First(f => f!["name"]!.GetValue<string>() == "vector")!["dimensions"]!.GetValue<int>();
        foreach (var action in actions)
        {
            if (action!["vector"] is JsonArray vector && vector.Count != dimensions)
            {
                return ServerReply.Json(400, $$$"""{"error":{"code":"OperationNotAllowed","message":"The vector field 'vector' dimensionality must match the field definition's 'dimensions' property. Expected: '{{{dimensions}}}'. Actual: '{{{vector.Count}}}'."}}""");
            }
        }

        var results = new JsonArray();
        var allOk = true;
        foreach (var node in actions)
        {
            var action = node!.AsObject();
            var kind = action["@search.action"]?.GetValue<string>() ?? "upload";
            var key = action["id"]!.GetValue<string>();
            var fields = (JsonObject)action.DeepClone();
            fields.Remove("@search.action");
            var exists = _documents.TryGetValue(key, out var current);
            int status;
            switch (kind)
            {
                case "upload":
                    _documents[key] = fields;
                    status = exists ? 200 : 201;
                    break;
                case "merge" when !exists:
                    status = 404;
                    break;
                case "merge" or "mergeOrUpload" when exists:
                    foreach (var (name, value) in fields)
                    {
                        current![name] = value?.DeepClone();
                    }

                    status = 200;
                    break;
                case "mergeOrUpload":
                    _documents[key] = fields;
                    status = 201;
                    break;
                case "delete":
                    _documents.TryRemove(key, out _);
                    status = 200;
                    break;
                default:
                    return ServerReply.Json(400, $$$"""{"error":{"code":"InvalidRequestParameter","message":"Unknown action {{{kind}}}."}}""");
            }

            var ok = status < 300;
            allOk &= ok;
            results.Add(new JsonObject
            {
                ["key"] = key,
                ["status"] = ok,
                ["errorMessage"] = ok ? null : "Document not found.",
                ["statusCode"] = status,
            });
        }

        return ServerReply.Json(allOk ? 200 : 207, new JsonObject { ["value"] = results }.ToJsonString());
    }

    private ServerReply Search(JsonObject body)
    {
        var filter = body["filter"]?.GetValue<string>();
        var candidates = new List<JsonObject>();
        foreach (var doc in _documents.Values)
        {
            if (filter is null || Matches(doc, filter))
            {
                candidates.Add(doc);
            }
        }

        var text = body["search"]?.GetValue<string>() ?? "*";
        var terms = text == "*" ? [] : Tokens(text).Distinct().ToArray();
        var keyword = candidates
            .Select(d => (Doc: d, Score: terms.Length == 0 ? 1.0 : KeywordScore(d, terms)))
            .Where(x => x.Score > 0)
            .OrderByDescending(x => x.Score)
            .ToList();

        var scores = new Dictionary<JsonObject, double>(ReferenceEqualityComparer.Instance);
        if (body["vectorQueries"] is JsonArray { Count: > 0 } vectorQueries)
        {
            // Hybrid: reciprocal rank fusion (k = 60) of the keyword ranking and the vector ranking, as the service does.
            for (var i = 0; i < keyword.Count; i++)
            {
                scores[keyword[i].Doc] = 1.0 / (60 + i + 1);
            }

            foreach (var query in vectorQueries)
            {
                var vector = query!["vector"]!.AsArray().Select(v => v!.GetValue<float>()).ToArray();
                var k = query["k"]?.GetValue<int>() ?? 50;
                var ranked = candidates
                    .Where(d => d["vector"] is JsonArray)
                    .Select(d => (Doc: d, Cosine: Cosine(vector, d["vector"]!.AsArray().Select(v => v!.GetValue<float>()).ToArray())))
                    .OrderByDescending(x => x.Cosine)
                    .Take(k)
                    .ToList();
                for (var i = 0; i < ranked.Count; i++)
                {
                    scores[ranked[i].Doc] = scores.GetValueOrDefault(ranked[i].Doc) + (1.0 / (60 + i + 1));
                }
            }
        }
        else
        {
            foreach (var (doc, score) in keyword)
            {
                scores[doc] = score;
            }
        }

        var top = body["top"]?.GetValue<int>() ?? 50;
        var select = body["select"]?.GetValue<string>()?.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        var value = new JsonArray();
        foreach (var (doc, score) in scores.OrderByDescending(kv => kv.Value).ThenBy(kv => kv.Key["id"]!.GetValue<string>(), StringComparer.Ordinal).Take(top))
        {
            var hit = new JsonObject { ["@search.score"] = score };
            foreach (var (name, field) in doc)
            {
                // The vector field is hidden (not retrievable); select limits the rest.
                if (name != "vector" && (select is null || select.Contains(name)))
                {
                    hit[name] = field?.DeepClone();
                }
            }

            value.Add(hit);
        }

        return ServerReply.Json(200, new JsonObject { ["value"] = value }.ToJsonString());
    }

    /// <summary>The OData forms AzureAiSearchPassageIndex.BuildFilter writes; anything else is a 400, as an unknown field would be.</summary>
    private static bool Matches(JsonObject doc, string filter)
    {
        foreach (var clause in filter.Split(" and "))
        {
            if (AnyEq().Match(clause) is { Success: true } any)
            {
                var wanted = any.Groups[2].Value.Replace("''", "'", StringComparison.Ordinal);
                if (doc[any.Groups[1].Value] is not JsonArray values || !values.Any(v => v?.GetValue<string>() == wanted))
                {
                    return false;
                }
            }
            else if (StringEq().Match(clause) is { Success: true } eq)
            {
                if (doc[eq.Groups[1].Value]?.GetValue<string>() != eq.Groups[2].Value.Replace("''", "'", StringComparison.Ordinal))
                {
                    return false;
                }
            }
            else if (BoolEq().Match(clause) is { Success: true } flag)
            {
                if ((doc[flag.Groups[1].Value]?.GetValue<bool>() ?? false) != (flag.Groups[2].Value == "true"))
                {
                    return false;
                }
            }
            else
            {
                throw new InvalidOperationException("unsupported filter clause: " + clause);
            }
        }

        return true;
    }

    private static double KeywordScore(JsonObject doc, string[] terms)
    {
        var words = Tokens(doc["text"]?.GetValue<string>() ?? string.Empty)
            .Concat(doc["headings"] is JsonArray h ? h.SelectMany(x => Tokens(x!.GetValue<string>())) : [])
            .Concat(Tokens(doc["documentName"]?.GetValue<string>() ?? string.Empty))
            .ToList();
        return terms.Sum(t => words.Count(w => w.StartsWith(t, StringComparison.Ordinal)));
    }

    private static IEnumerable<string> Tokens(string text) =>
        WordPattern().Matches(text.ToLowerInvariant()).Select(m => m.Value).Where(w => w.Length > 1);

    private static double Cosine(float[] a, float[] b)
    {
        double dot = 0, na = 0, nb = 0;
        for (var i = 0; i < Math.Min(a.Length, b.Length); i++)
        {
            dot += a[i] * b[i];
            na += a[i] * a[i];
            nb += b[i] * b[i];
        }

        return na == 0 || nb == 0 ? 0 : dot / Math.Sqrt(na * nb);
    }

    [GeneratedRegex(@"^/indexes\('[^']+'\)$")]
    private static partial Regex IndexPath();

    [GeneratedRegex(@"^\s*(\w+)/any\(\w+: \w+ eq '((?:[^']|'')*)'\)\s*$")]
    private static partial Regex AnyEq();

    [GeneratedRegex(@"^\s*(\w+) eq '((?:[^']|'')*)'\s*$")]
    private static partial Regex StringEq();

    [GeneratedRegex(@"^\s*(\w+) eq (true|false)\s*$")]
    private static partial Regex BoolEq();

    [GeneratedRegex(@"[\p{L}\p{Nd}]+")]
    private static partial Regex WordPattern();
}
