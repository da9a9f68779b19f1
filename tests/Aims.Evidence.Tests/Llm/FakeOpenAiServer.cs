using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Aims.Evidence.Tests.Llm;

/// <summary>
/// A local OpenAI-compatible server on 127.0.0.1 (Kestrel, random port) speaking POST /v1/chat/completions and the
/// Azure OpenAI shape /openai/deployments/{name}/chat/completions?api-version=..., with scripted replies, and the
/// embeddings routes (POST /v1/embeddings, /openai/deployments/{name}/embeddings?api-version=...) answering with
/// deterministic bag-of-words vectors of the requested <c>dimensions</c> (float arrays or, when the client asks for
/// <c>"encoding_format":"base64"</c>, little-endian float32 bytes in base64, as the service does).
/// </summary>
internal sealed partial class FakeOpenAiServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly Func<Received, int, Reply> _script;
    private int _count;
    private long _promptTokens;
    private long _completionTokens;

    private FakeOpenAiServer(WebApplication app, Func<Received, int, Reply> script)
    {
        _app = app;
        _script = script;
    }

    public sealed record Received(string Path, string Query, string? ApiKey, string? Authorization, string Body)
    {
        /// <summary>All message contents of the request, in order.</summary>
        public IReadOnlyList<string> Messages
        {
            get
            {
                using var doc = JsonDocument.Parse(Body);
                var list = new List<string>();
                foreach (var m in doc.RootElement.GetProperty("messages").EnumerateArray())
                {
                    var c = m.GetProperty("content");
                    list.Add(c.ValueKind == JsonValueKind.String ? c.GetString()! : string.Concat(c.EnumerateArray().Select(p => p.TryGetProperty("text", out var t) ? t.GetString() : string.Empty)));
                }

                return list;
            }
        }

        public string Prompt => Messages[0];

        /// <summary>Passage id → offered candidate ids, read from the delimited prompt.</summary>
        public IReadOnlyDictionary<string, string[]> Offered => PassagePattern().Matches(Prompt)
            .ToDictionary(m => m.Groups[1].Value, m => m.Groups[2].Value.Split(", ", StringSplitOptions.RemoveEmptyEntries));
    }

    public sealed record Reply(int Status, string? Content = null, int PromptTokens = 0, int CompletionTokens = 0, string? RetryAfter = null);

    public ConcurrentQueue<Received> Requests { get; } = new();

    /// <summary>Embedding requests, kept apart from the chat <see cref="Requests"/>.</summary>
    public ConcurrentQueue<Received> EmbeddingRequests { get; } = new();

    /// <summary>Vector length when the request names no <c>dimensions</c> (text-embedding-3-small's native length).</summary>
    public int DefaultDimensions { get; set; } = 1536;

    public int Calls => Volatile.Read(ref _count);

    /// <summary>Usage served in successful replies.</summary>
    public long ServedPromptTokens => Interlocked.Read(ref _promptTokens);

    public long ServedCompletionTokens => Interlocked.Read(ref _completionTokens);

    public string BaseUrl { get; private set; } = string.Empty;

    public static async Task<FakeOpenAiServer> StartAsync(Func<Received, int, Reply> script)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var server = new FakeOpenAiServer(app, script);
        app.MapPost("/v1/chat/completions", server.HandleAsync);
        app.MapPost("/openai/deployments/{name}/chat/completions", server.HandleAsync);
        app.MapPost("/v1/embeddings", server.HandleEmbeddingsAsync);
        app.MapPost("/openai/deployments/{name}/embeddings", server.HandleEmbeddingsAsync);
        await app.StartAsync();
        server.BaseUrl = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First().TrimEnd('/');
        return server;
    }

    private async Task HandleAsync(HttpContext http)
    {
        using var reader = new StreamReader(http.Request.Body);
        var body = await reader.ReadToEndAsync();
        var received = new Received(http.Request.Path, http.Request.QueryString.Value ?? string.Empty, http.Request.Headers["api-key"].FirstOrDefault(), http.Request.Headers.Authorization.FirstOrDefault(), body);
        Requests.Enqueue(received);
        var n = Interlocked.Increment(ref _count) - 1;
        var reply = _script(received, n);
        http.Response.StatusCode = reply.Status;
        if (reply.RetryAfter is not null)
        {
            http.Response.Headers.RetryAfter = reply.RetryAfter;
        }

        if (reply.Status != 200)
        {
            await http.Response.WriteAsJsonAsync(new { error = new { message = "scripted failure", type = "server_error", code = reply.Status.ToString(System.Globalization.CultureInfo.InvariantCulture) } });
            return;
        }

        Interlocked.Add(ref _promptTokens, reply.PromptTokens);
        Interlocked.Add(ref _completionTokens, reply.CompletionTokens);
        var model = JsonDocument.Parse(body).RootElement.TryGetProperty("model", out var m) ? m.GetString() : "unknown";
        await http.Response.WriteAsJsonAsync(new
        {
            id = "chatcmpl-" + n,
            @object = "chat.completion",
            created = DateTimeOffset.UtcNow.ToUnixTimeSeconds(),
            model,
            choices = new[] { new { index = 0, message = new { role = "assistant", content = reply.Content }, finish_reason = "stop" } },
            usage = new { prompt_tokens = reply.PromptTokens, completion_tokens = reply.CompletionTokens, total_tokens = reply.PromptTokens + reply.CompletionTokens },
        });
    }

    private async Task HandleEmbeddingsAsync(HttpContext http)
    {
        using var reader = new StreamReader(http.Request.Body);
        var body = await reader.ReadToEndAsync();
        EmbeddingRequests.Enqueue(new Received(http.Request.Path, http.Request.QueryString.Value ?? string.Empty, http.Request.Headers["api-key"].FirstOrDefault(), http.Request.Headers.Authorization.FirstOrDefault(), body));
        using var doc = JsonDocument.Parse(body);
        var root = doc.RootElement;
        var inputs = root.GetProperty("input") is { ValueKind: JsonValueKind.Array } array
            ? array.EnumerateArray().Select(e => e.GetString() ?? string.Empty).ToArray()
            : [root.GetProperty("input").GetString() ?? string.Empty];
        var dimensions = root.TryGetProperty("dimensions", out var d) ? d.GetInt32() : DefaultDimensions;
        var base64 = root.TryGetProperty("encoding_format", out var f) && f.GetString() == "base64";
        var tokens = inputs.Sum(i => i.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length);
        await http.Response.WriteAsJsonAsync(new
        {
            @object = "list",
            data = inputs.Select((text, i) =>
            {
                var vector = Embed(text, dimensions);
                return new { @object = "embedding", index = i, embedding = base64 ? (object)Convert.ToBase64String(System.Runtime.InteropServices.MemoryMarshal.AsBytes(vector.AsSpan())) : vector };
            }).ToArray(),
            model = root.TryGetProperty("model", out var m) ? m.GetString() : "unknown",
            usage = new { prompt_tokens = tokens, total_tokens = tokens },
        });
    }

    /// <summary>A unit vector of word hashes: texts sharing words get a positive cosine, as with a real model.</summary>
    public static float[] Embed(string text, int dimensions)
    {
        var vector = new float[dimensions];
        foreach (var word in WordPattern().Matches(text.ToLowerInvariant()).Select(w => w.Value))
        {
            var hash = 17;
            foreach (var c in word)
            {
                hash = unchecked((hash * 31) + c);
            }

            vector[(hash & int.MaxValue) % dimensions] += 1;
        }

        var norm = MathF.Sqrt(vector.Sum(v => v * v));
        if (norm == 0)
        {
            vector[0] = 1;
            return vector;
        }

        for (var i = 0; i < dimensions; i++)
        {
            vector[i] /= norm;
        }

        return vector;
    }

    /// <summary>
    /// A mapping answer choosing, for every passage, its first offered candidate (or all the given ids); with
    /// <paramref name="polarity"/>, each control also gets the polarity it returns for (passage id, control id), none when
    /// it returns null.
    /// </summary>
    public static string Answer(Received r, Func<string, string[], IEnumerable<string>>? pick = null, double confidence = 0.9, Func<string, string, string?>? polarity = null)
    {
        pick ??= (_, offered) => offered.Take(1);
        return JsonSerializer.Serialize(new
        {
            passages = r.Offered.Select(kv => new
            {
                id = kv.Key,
                controls = pick(kv.Key, kv.Value).Select(c => polarity?.Invoke(kv.Key, c) is { } p
                    ? new { id = c, confidence, polarity = p, rationale = "The passage says it does this." }
                    : (object)new { id = c, confidence, rationale = "The passage says it does this." }),
            }),
        });
    }

    /// <summary>The text of each passage of a mapping prompt, by its id in the batch.</summary>
    public static IReadOnlyDictionary<string, string> PassageTexts(Received r) =>
        PassageTextPattern().Matches(r.Prompt).ToDictionary(m => m.Groups[1].Value, m => m.Groups[2].Value, StringComparer.Ordinal);

    public static Reply Comply(Received r, int n) => new(200, Answer(r), 1000 + n, 50 + n);

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    [GeneratedRegex("<passage id=\"(p\\d+)\" offered=\"([^\"]*)\"")]
    private static partial Regex PassagePattern();

    [GeneratedRegex("<passage id=\"(p\\d+)\"[^>]*>\n(.*?)\n</passage>", RegexOptions.Singleline)]
    private static partial Regex PassageTextPattern();

    [GeneratedRegex(@"[\p{L}\p{Nd}]+")]
    private static partial Regex WordPattern();
}
