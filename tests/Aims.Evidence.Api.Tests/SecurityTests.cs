using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Aims.Evidence.Cli;
using Aims.Evidence.Core.Storage;
using Aims.Evidence.Hosting;
using Aims.Evidence.Local;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Aims.Evidence.Api.Tests;

/// <summary>Who may call what, and what every response carries: the endpoint × role matrix, headers and hostile search (TestServer).</summary>
[Trait(Tiers.Name, Tiers.Integration)]
public sealed class SecurityMatrixTests(ApiFixture fx) : IClassFixture<ApiFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private enum Access
    {
        Anonymous,
        Reader,
        Reviewer,
        Admin,
    }

    /// <summary>
    /// Every endpoint the app maps, with the role it needs and a URL to call it with. A new endpoint without a row
    /// here fails <see cref="Every_endpoint_answers_401_without_a_key_403_below_its_role_and_neither_with_it"/>.
    /// </summary>
    private static readonly Dictionary<string, (Access Access, string Url)> Expected = new(StringComparer.Ordinal)
    {
        ["GET /openapi/{documentName}.json"] = (Access.Anonymous, "/openapi/v1.json"),
        ["GET /api/v1/health"] = (Access.Anonymous, "/api/v1/health"),
        ["GET /api/v1/controls"] = (Access.Reader, "/api/v1/controls"),
        ["GET /api/v1/controls/{id}"] = (Access.Reader, "/api/v1/controls/A.6.2.4"),
        ["GET /api/v1/gaps"] = (Access.Reader, "/api/v1/gaps"),
        ["GET /api/v1/coverage"] = (Access.Reader, "/api/v1/coverage"),
        ["GET /api/v1/frameworks"] = (Access.Reader, "/api/v1/frameworks"),
        ["GET /api/v1/frameworks/{id}/coverage"] = (Access.Reader, "/api/v1/frameworks/iso27001/coverage"),
        ["GET /api/v1/documents"] = (Access.Reader, "/api/v1/documents"),
        ["GET /api/v1/documents/{id}"] = (Access.Reader, "/api/v1/documents/no-such-document"),
        ["POST /api/v1/documents"] = (Access.Reviewer, "/api/v1/documents"),
        ["PUT /api/v1/documents/{id}/effective-date"] = (Access.Reviewer, "/api/v1/documents/no-such-document/effective-date"),
        ["PUT /api/v1/controls/{id}/applicability"] = (Access.Reviewer, "/api/v1/controls/no-such-control/applicability"),
        ["PUT /api/v1/controls/{id}/owner"] = (Access.Reviewer, "/api/v1/controls/no-such-control/owner"),
        ["DELETE /api/v1/controls/{id}/owner"] = (Access.Reviewer, "/api/v1/controls/no-such-control/owner"),
        ["GET /api/v1/tasks"] = (Access.Reader, "/api/v1/tasks"),
        ["GET /api/v1/ai-systems"] = (Access.Reader, "/api/v1/ai-systems"),
        ["GET /api/v1/ai-systems/{id}"] = (Access.Reader, "/api/v1/ai-systems/no-such-system"),
        ["POST /api/v1/ai-systems"] = (Access.Reviewer, "/api/v1/ai-systems"),
        ["POST /api/v1/ai-systems/{id}/edits"] = (Access.Reviewer, "/api/v1/ai-systems/no-such-system/edits"),
        ["GET /api/v1/search"] = (Access.Reader, "/api/v1/search?q=risk"),
        ["POST /api/v1/mappings/{id}/review"] = (Access.Reviewer, "/api/v1/mappings/no-such-mapping/review"),
        ["POST /api/v1/passages/{id}/mappings"] = (Access.Reviewer, "/api/v1/passages/no-such-passage/mappings"),
        ["GET /api/v1/exports/soa"] = (Access.Reader, "/api/v1/exports/soa"),
        ["GET /api/v1/exports/oscal"] = (Access.Reader, "/api/v1/exports/oscal"),
        ["GET /api/v1/exports/pack"] = (Access.Reader, "/api/v1/exports/pack"),
        ["GET /api/v1/audit-log"] = (Access.Reader, "/api/v1/audit-log"),
        ["POST /api/v1/keys"] = (Access.Admin, "/api/v1/keys"),
        ["GET /api/v1/me"] = (Access.Reader, "/api/v1/me"),
        ["DELETE /api/v1/keys/{id}"] = (Access.Admin, "/api/v1/keys/no-such-key"),
    };

    /// <summary>Served by the static-file middleware, not endpoints: open by design.</summary>
    private static readonly string[] DashboardFiles = ["/", "/index.html", "/app.js", "/app.css"];

    private static async Task<HttpResponseMessage> CallAsync(HttpClient client, string method, string url)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), url);
        if (url == "/api/v1/documents" && method == "POST")
        {
            // The upload only matches multipart bodies (other content types are a 415 from routing, before any auth).
            request.Content = new MultipartFormDataContent { { new ByteArrayContent([]), "file", "empty.md" } };
        }
        else if (method is "POST" or "PUT")
        {
            request.Content = new StringContent("{}", Encoding.UTF8, "application/json"); // empty: a validation error at worst
        }

        return await client.SendAsync(request, Ct);
    }

    [Fact]
    public async Task Every_endpoint_answers_401_without_a_key_403_below_its_role_and_neither_with_it()
    {
        using var _ = fx.Client();
        var mapped = fx.Factory.Services.GetRequiredService<EndpointDataSource>().Endpoints
            .OfType<RouteEndpoint>()
            .SelectMany(e => (e.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods ?? ["ANY"]).Select(m => $"{m} {e.RoutePattern.RawText}"))
            .ToHashSet(StringComparer.Ordinal);
        Assert.True(mapped.Count >= Expected.Count, "the app maps fewer endpoints than expected: " + string.Join(", ", mapped));
        var unlisted = mapped.Except(Expected.Keys).ToArray();
        Assert.True(unlisted.Length == 0, "endpoints without an entry in the security matrix: " + string.Join(", ", unlisted));
        var stale = Expected.Keys.Except(mapped).ToArray();
        Assert.True(stale.Length == 0, "matrix entries for endpoints that no longer exist: " + string.Join(", ", stale));

        var keys = new Dictionary<Access, string> { [Access.Reader] = fx.ReaderKey, [Access.Reviewer] = fx.ReviewerKey, [Access.Admin] = fx.AdminKey };
        using var anonymous = fx.Client();
        using var invalid = fx.Client("aims_" + new string('x', 43));
        var failures = new List<string>();
        foreach (var (route, (access, url)) in Expected)
        {
            var method = route.Split(' ')[0];
            var none = await CallAsync(anonymous, method, url);
            if (access == Access.Anonymous)
            {
                Check(route, "no key", none, s => s is not (401 or 403));
                continue;
            }

            Check(route, "no key", none, s => s == 401, problem: true);
            Check(route, "unknown key", await CallAsync(invalid, method, url), s => s == 401, problem: true);
            foreach (var lower in Enum.GetValues<Access>().Where(a => a is not Access.Anonymous && a < access))
            {
                using var client = fx.Client(keys[lower]);
                Check(route, lower + " key", await CallAsync(client, method, url), s => s == 403, problem: true);
            }

            foreach (var enough in Enum.GetValues<Access>().Where(a => a >= access))
            {
                using var client = fx.Client(keys[enough]);
                Check(route, enough + " key", await CallAsync(client, method, url), s => s is not (401 or 403) && s < 500);
            }
        }

        foreach (var file in DashboardFiles)
        {
            Check("GET " + file, "no key", await anonymous.GetAsync(file, Ct), s => s == 200);
        }

        Assert.True(failures.Count == 0, string.Join(Environment.NewLine, failures));

        void Check(string route, string who, HttpResponseMessage response, Func<int, bool> ok, bool problem = false)
        {
            var status = (int)response.StatusCode;
            if (!ok(status))
            {
                failures.Add($"{route} with {who}: {status}");
            }
            else if (problem && response.Content.Headers.ContentType?.MediaType != "application/problem+json")
            {
                failures.Add($"{route} with {who}: {status} without a problem+json body");
            }
        }
    }

    [Fact]
    public async Task Security_headers_are_on_every_response_and_api_responses_are_not_stored()
    {
        using var anonymous = fx.Client();
        using var reader = fx.Client(fx.ReaderKey);
        var responses = new Dictionary<string, HttpResponseMessage>
        {
            ["dashboard"] = await anonymous.GetAsync("/", Ct),
            ["script"] = await anonymous.GetAsync("/app.js", Ct),
            ["health"] = await anonymous.GetAsync("/api/v1/health", Ct),
            ["openapi"] = await anonymous.GetAsync("/openapi/v1.json", Ct),
            ["401"] = await anonymous.GetAsync("/api/v1/controls", Ct),
            ["evidence"] = await reader.GetAsync("/api/v1/controls/A.6.2.4", Ct),
            ["search"] = await reader.GetAsync("/api/v1/search?q=risk", Ct),
            ["export"] = await reader.GetAsync("/api/v1/exports/soa?format=csv", Ct),
            ["404"] = await reader.GetAsync("/api/v1/documents/no-such-document", Ct),
            ["unmapped"] = await reader.GetAsync("/no/such/path", Ct),
        };

        foreach (var (name, response) in responses)
        {
            Assert.True(response.Headers.TryGetValues("X-Content-Type-Options", out var nosniff) && nosniff.Single() == "nosniff", name);
            Assert.True(response.Headers.TryGetValues("X-Frame-Options", out var frame) && frame.Single() == "DENY", name);
            Assert.True(response.Headers.TryGetValues("Referrer-Policy", out var referrer) && referrer.Single() == "no-referrer", name);
            Assert.True(response.Headers.TryGetValues("Content-Security-Policy", out var csp), name);
            var policy = csp.Single();
            Assert.Contains("frame-ancestors 'none'", policy, StringComparison.Ordinal);
            Assert.Contains("base-uri 'none'", policy, StringComparison.Ordinal);
            Assert.DoesNotContain("unsafe-inline", policy, StringComparison.Ordinal);
            Assert.DoesNotContain("unsafe-eval", policy, StringComparison.Ordinal);
        }

        var dashboardCsp = responses["dashboard"].Headers.GetValues("Content-Security-Policy").Single();
        foreach (var directive in new[] { "default-src 'self'", "script-src 'self'", "object-src 'none'", "form-action 'self'", "connect-src 'self'" })
        {
            Assert.Contains(directive, dashboardCsp, StringComparison.Ordinal);
        }

        foreach (var name in new[] { "health", "openapi", "401", "evidence", "search", "export", "404" })
        {
            Assert.Equal("default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'", responses[name].Headers.GetValues("Content-Security-Policy").Single());
            Assert.True(responses[name].Headers.CacheControl?.NoStore, name + ": Cache-Control " + responses[name].Headers.CacheControl);
        }

        Assert.NotNull(responses["evidence"].Headers.ETag); // revalidation by explicit If-None-Match still works
    }

    public static readonly TheoryData<string> HostileQueries =
    [
        "\"", "\"\"", "\"unbalanced quote", "risk\" OR \"", "risk AND", "OR", "NOT risk", "AND OR NOT", "NEAR(risk impact, 2)", "NEAR(",
        "NEAR(risk", "text:risk", "headings:risk", "{text headings}:risk", "-risk", "^risk", "*", "risk*", "***", "'; DROP TABLE documents; --",
        "' OR '1'='1", "1; SELECT * FROM api_keys", "risk\0impact", "\0", "%", "_", "\\", "()", ")))", "(((", "[risk]", "risk:*", "\u202e\u0000\ud83d\ude00",
        new string('a', 10 * 1024), string.Join(' ', Enumerable.Repeat("risk OR impact", 60)),
    ];

    [Theory]
    [MemberData(nameof(HostileQueries))]
    public async Task Hostile_search_syntax_gives_200_or_a_400_problem_never_a_500_or_internals(string q)
    {
        using var client = fx.Client(fx.ReaderKey);
        var response = await client.GetAsync("/api/v1/search?q=" + Uri.EscapeDataString(q), Ct);
        var body = await response.Content.ReadAsStringAsync(Ct);
        Assert.True(response.StatusCode is HttpStatusCode.OK or HttpStatusCode.BadRequest, $"{(int)response.StatusCode}: {body[..Math.Min(300, body.Length)]}");
        if (response.StatusCode == HttpStatusCode.BadRequest)
        {
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        }

        SecurityAssert.NoInternals(body);
        var docs = JsonNode.Parse(await client.GetStringAsync("/api/v1/documents", Ct))!;
        Assert.Equal(3, docs["items"]!.AsArray().Count);
    }
}

internal static class SecurityAssert
{
    /// <summary>No stack trace, SQL, database or exception type names in a response body.</summary>
    public static void NoInternals(string body)
    {
        foreach (var marker in new[] { "   at ", "Exception", "SQLite", "sqlite", "fts5", "SELECT ", "syntax error", "System.", "Microsoft.", "Aims.Evidence." })
        {
            Assert.DoesNotContain(marker, body, StringComparison.Ordinal);
        }
    }
}

/// <summary>Captures every log entry (message, structured values, scopes, exceptions) at every level.</summary>
internal sealed class CapturingLoggerProvider : ILoggerProvider
{
    public ConcurrentQueue<string> Entries { get; } = new();

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose()
    {
    }

    private static string Describe(object? state) => state is IEnumerable<KeyValuePair<string, object?>> values
        ? string.Join("; ", values.Select(v => v.Key + "=" + v.Value)) + " | " + state
        : state?.ToString() ?? string.Empty;

    private sealed class Logger(CapturingLoggerProvider owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull
        {
            owner.Entries.Enqueue($"scope {category}: {Describe(state)}");
            return null;
        }

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            owner.Entries.Enqueue($"{logLevel} {category} {eventId}: {formatter(state, exception)} | {Describe(state)} | {exception}");
    }
}

/// <summary>Rate limits, CORS, body size and log hygiene on a real Kestrel at 127.0.0.1 with the `aims serve` composition.</summary>
[Trait(Tiers.Name, Tiers.Integration)]
public sealed class SecurityServeTests : IAsyncLifetime
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "aims-sec-" + Guid.NewGuid().ToString("N")[..12]);

    private LocalAims _aims = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private string Inbox => Path.Combine(_dir, "inbox");

    public async ValueTask InitializeAsync()
    {
        Directory.CreateDirectory(Inbox);
        _aims = await LocalAims.OpenAsync(Path.Combine(_dir, "aims.db"), new AimsSettings { Mapping = new() { Mapper = MapperKinds.Lexical } }, Ct);
    }

    public ValueTask DisposeAsync()
    {
        _aims.Dispose();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        TempDir.Delete(_dir);

        return ValueTask.CompletedTask;
    }

    private async Task<string> KeyAsync(ApiRole role) => (await _aims.Store.CreateApiKeyAsync(role, "test", Ct)).Key;

    private async Task<(WebApplication App, string Url)> StartAsync(Action<AimsApiOptions> configure)
    {
        var app = AimsServer.Build(_aims, Inbox, "http://127.0.0.1:0", configure: o =>
        {
            o.WatchInbox = false;
            configure(o);
        });
        await app.StartAsync(Ct);
        return (app, app.Urls.First().TrimEnd('/'));
    }

    private static HttpClient Client(string url, string? key = null)
    {
        var client = new HttpClient { BaseAddress = new Uri(url) };
        if (key is not null)
        {
            client.DefaultRequestHeaders.Add("X-Api-Key", key);
        }

        return client;
    }

    [Fact]
    public async Task A_revoked_key_gets_401_at_once_and_the_revocation_is_audited()
    {
        var db = Path.Combine(_dir, "aims.db");
        var (revokedRecord, revokedKey) = await _aims.Store.CreateApiKeyAsync(ApiRole.Reviewer, "test", Ct);
        var other = await KeyAsync(ApiRole.Reader);
        var (app, url) = await StartAsync(_ => { });
        await using var _ = app;
        using var revokedClient = Client(url, revokedKey);
        using var otherClient = Client(url, other);
        Assert.Equal(HttpStatusCode.OK, (await revokedClient.GetAsync("/api/v1/coverage", Ct)).StatusCode);

        // `aims keys revoke <id>` on the database the server runs on.
        using var output = new StringWriter();
        using var error = new StringWriter();
        Assert.Equal(ExitCodes.Ok, await AimsCli.RunAsync(["keys", "revoke", revokedRecord.Id, "--db", db], output, error));
        Assert.Contains($"Revoked reviewer key {revokedRecord.Id}", output.ToString(), StringComparison.Ordinal);

        // The next request with it is refused; other keys are untouched.
        var refused = await revokedClient.GetAsync("/api/v1/coverage", Ct);
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
        Assert.Equal(HttpStatusCode.OK, (await otherClient.GetAsync("/api/v1/coverage", Ct)).StatusCode);

        var audit = JsonNode.Parse(await otherClient.GetStringAsync("/api/v1/audit-log?limit=100", Ct))!["items"]!.AsArray()
            .Single(e => e!["action"]!.GetValue<string>() == "apikey.revoke")!;
        Assert.Equal("cli", audit["actor"]!.GetValue<string>());
        Assert.Equal(revokedRecord.Id, audit["target"]!.GetValue<string>());
        Assert.Contains("reviewer", audit["before"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.DoesNotContain(revokedKey, audit.ToJsonString(), StringComparison.Ordinal);

        // Again, or an unknown id: one line, exit 1, nothing else revoked.
        using var again = new StringWriter();
        Assert.Equal(ExitCodes.Error, await AimsCli.RunAsync(["keys", "revoke", revokedRecord.Id, "--db", db], output, again));
        Assert.Equal($"error: no such key: {revokedRecord.Id} in {db}", again.ToString().TrimEnd());
        Assert.Equal(HttpStatusCode.OK, (await otherClient.GetAsync("/api/v1/coverage", Ct)).StatusCode);

        // A database that does not exist is not created to revoke nothing in it.
        var missing = Path.Combine(_dir, "missing.db");
        using var noDb = new StringWriter();
        Assert.Equal(ExitCodes.Error, await AimsCli.RunAsync(["keys", "revoke", revokedRecord.Id, "--db", missing], output, noDb));
        Assert.StartsWith("error: no such database:", noDb.ToString(), StringComparison.Ordinal);
        Assert.False(File.Exists(missing));

        // Through the API (DELETE /api/v1/keys/{id}, admin): GET /me names the key until then, 401 after; audited with the admin as actor.
        var (adminRecord, admin) = await _aims.Store.CreateApiKeyAsync(ApiRole.Admin, "test", Ct);
        using var adminClient = Client(url, admin);
        var me = JsonNode.Parse(await otherClient.GetStringAsync("/api/v1/me", Ct))!;
        Assert.Equal("reader", me["role"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.Forbidden, (await otherClient.DeleteAsync($"/api/v1/keys/{adminRecord.Id}", Ct)).StatusCode);
        var otherId = me["id"]!.GetValue<string>();
        var deleted = await adminClient.DeleteAsync($"/api/v1/keys/{otherId}", Ct);
        Assert.Equal(HttpStatusCode.OK, deleted.StatusCode);
        Assert.Equal("reader", JsonNode.Parse(await deleted.Content.ReadAsStringAsync(Ct))!["role"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.Unauthorized, (await otherClient.GetAsync("/api/v1/me", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await adminClient.DeleteAsync($"/api/v1/keys/{otherId}", Ct)).StatusCode);
        var byApi = JsonNode.Parse(await adminClient.GetStringAsync("/api/v1/audit-log?limit=100", Ct))!["items"]!.AsArray()
            .Single(e => e!["action"]!.GetValue<string>() == "apikey.revoke" && e["target"]!.GetValue<string>() == otherId)!;
        Assert.Equal(adminRecord.Id, byApi["actor"]!.GetValue<string>());
    }

    [Fact]
    public async Task Rate_limit_is_per_key_with_a_429_problem_and_retry_after_and_health_has_its_own_window()
    {
        var keyA = await KeyAsync(ApiRole.Reader);
        var keyB = await KeyAsync(ApiRole.Reader);
        var (app, url) = await StartAsync(o => o.RateLimit = new ApiRateLimitOptions { PermitLimit = 5, WindowSeconds = 60, HealthPermitLimit = 3 });
        await using var _ = app;
        using var a = Client(url, keyA);
        using var b = Client(url, keyB);
        using var anonymous = Client(url);

        for (var i = 0; i < 5; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await a.GetAsync("/api/v1/coverage", Ct)).StatusCode);
        }

        var limited = await a.GetAsync("/api/v1/coverage", Ct);
        Assert.Equal(HttpStatusCode.TooManyRequests, limited.StatusCode);
        Assert.Equal("application/problem+json", limited.Content.Headers.ContentType?.MediaType);
        var retryAfter = limited.Headers.RetryAfter?.Delta;
        Assert.NotNull(retryAfter);
        Assert.InRange(retryAfter.Value.TotalSeconds, 1, 60);
        var problem = JsonNode.Parse(await limited.Content.ReadAsStringAsync(Ct))!;
        Assert.Equal(429, problem["status"]!.GetValue<int>());
        Assert.Equal("nosniff", limited.Headers.GetValues("X-Content-Type-Options").Single());

        // Another key has its own window; health has its own (per IP) window too.
        Assert.Equal(HttpStatusCode.OK, (await b.GetAsync("/api/v1/coverage", Ct)).StatusCode);
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync("/api/v1/health", Ct)).StatusCode);
        }

        var healthLimited = await anonymous.GetAsync("/api/v1/health", Ct);
        Assert.Equal(HttpStatusCode.TooManyRequests, healthLimited.StatusCode);
        Assert.NotNull(healthLimited.Headers.RetryAfter);
        Assert.Equal(HttpStatusCode.OK, (await b.GetAsync("/api/v1/coverage", Ct)).StatusCode);

        // Requests without a valid key share one window per client IP: new random keys do not buy new windows.
        for (var i = 0; i < 5; i++)
        {
            using var guess = Client(url, "aims_guess" + i);
            Assert.Equal(HttpStatusCode.Unauthorized, (await guess.GetAsync("/api/v1/coverage", Ct)).StatusCode);
        }

        using var sixth = Client(url, "aims_guess-six");
        Assert.Equal(HttpStatusCode.TooManyRequests, (await sixth.GetAsync("/api/v1/coverage", Ct)).StatusCode);
        await app.StopAsync(Ct);
    }

    [Fact]
    public async Task Default_limits_let_a_dashboard_session_through()
    {
        Assert.True(new ApiRateLimitOptions().PermitLimit >= 300);
        var key = await KeyAsync(ApiRole.Reviewer);
        var (app, url) = await StartAsync(_ => { });
        await using var _ = app;
        using var client = Client(url, key);
        var pages = new[] { "/api/v1/controls?limit=500", "/api/v1/gaps", "/api/v1/coverage", "/api/v1/documents", "/api/v1/controls/A.6.2.4", "/api/v1/search?q=risk" };
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 200; i++)
        {
            statuses.Add((await client.GetAsync(pages[i % pages.Length], Ct)).StatusCode);
        }

        Assert.DoesNotContain(HttpStatusCode.TooManyRequests, statuses);
        await app.StopAsync(Ct);
    }

    private static HttpRequestMessage Preflight(string origin)
    {
        var request = new HttpRequestMessage(HttpMethod.Options, "/api/v1/controls");
        request.Headers.Add("Origin", origin);
        request.Headers.Add("Access-Control-Request-Method", "GET");
        request.Headers.Add("Access-Control-Request-Headers", "x-api-key");
        return request;
    }

    [Fact]
    public async Task Cors_allows_only_the_configured_origins()
    {
        var key = await KeyAsync(ApiRole.Reader);
        const string allowed = "https://dashboard.example";
        const string other = "https://evil.example";
        var (app, url) = await StartAsync(o => o.CorsOrigins = [allowed]);
        await using (app)
        {
            using var client = Client(url, key);
            using var preflight = await client.SendAsync(Preflight(allowed), Ct);
            Assert.True(preflight.IsSuccessStatusCode, ((int)preflight.StatusCode).ToString(System.Globalization.CultureInfo.InvariantCulture));
            Assert.Equal(allowed, preflight.Headers.GetValues("Access-Control-Allow-Origin").Single());
            Assert.Contains("x-api-key", string.Join(",", preflight.Headers.GetValues("Access-Control-Allow-Headers")), StringComparison.OrdinalIgnoreCase);
            Assert.Contains("GET", string.Join(",", preflight.Headers.GetValues("Access-Control-Allow-Methods")), StringComparison.Ordinal);
            Assert.False(preflight.Headers.Contains("Access-Control-Allow-Credentials"));

            using var denied = await client.SendAsync(Preflight(other), Ct);
            Assert.False(denied.Headers.Contains("Access-Control-Allow-Origin"));
            Assert.False(denied.Headers.Contains("Access-Control-Allow-Headers"));

            using var get = new HttpRequestMessage(HttpMethod.Get, "/api/v1/coverage");
            get.Headers.Add("Origin", allowed);
            using var actual = await client.SendAsync(get, Ct);
            Assert.Equal(allowed, actual.Headers.GetValues("Access-Control-Allow-Origin").Single());
            Assert.Contains("ETag", string.Join(",", actual.Headers.GetValues("Access-Control-Expose-Headers")), StringComparison.Ordinal);

            using var getOther = new HttpRequestMessage(HttpMethod.Get, "/api/v1/coverage");
            getOther.Headers.Add("Origin", other);
            using var otherResponse = await client.SendAsync(getOther, Ct);
            Assert.False(otherResponse.Headers.Contains("Access-Control-Allow-Origin"));
            await app.StopAsync(Ct);
        }

        // The default: no origin configured, no cross-origin access at all.
        var (plain, plainUrl) = await StartAsync(_ => { });
        await using (plain)
        {
            using var client = Client(plainUrl, key);
            Assert.Empty(new AimsApiOptions().CorsOrigins);
            using var preflight = await client.SendAsync(Preflight(allowed), Ct);
            Assert.False(preflight.Headers.Contains("Access-Control-Allow-Origin"));
            await plain.StopAsync(Ct);
        }
    }

    [Fact]
    public async Task Serve_binds_the_api_options_from_AIMS__API_environment_variables()
    {
        // Only CORS origins are set through the process environment: harmless to tests running alongside.
        const string variable = "AIMS__API__CORSORIGINS__0";
        var old = Environment.GetEnvironmentVariable(variable);
        Environment.SetEnvironmentVariable(variable, "https://from-env.example");
        try
        {
            var key = await KeyAsync(ApiRole.Reader);
            var (app, url) = await StartAsync(_ => { });
            await using var _ = app;
            using var client = Client(url, key);
            using var preflight = await client.SendAsync(Preflight("https://from-env.example"), Ct);
            Assert.Equal("https://from-env.example", preflight.Headers.GetValues("Access-Control-Allow-Origin").Single());
            await app.StopAsync(Ct);
        }
        finally
        {
            Environment.SetEnvironmentVariable(variable, old);
        }
    }

    [Fact]
    public async Task Oversized_bodies_get_a_413_problem_and_never_a_500()
    {
        var admin = await KeyAsync(ApiRole.Admin);
        var (app, url) = await StartAsync(o => o.MaxJsonBodyBytes = 1024);
        await using var _ = app;
        using var client = Client(url, admin);
        var big = "{\"role\":\"reader\",\"pad\":\"" + new string('x', 100 * 1024) + "\"}";

        using var declared = await client.PostAsync("/api/v1/keys", new StringContent(big, Encoding.UTF8, "application/json"), Ct);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, declared.StatusCode);
        Assert.Equal("application/problem+json", declared.Content.Headers.ContentType?.MediaType);
        var body = await declared.Content.ReadAsStringAsync(Ct);
        Assert.Contains("1024 bytes", body, StringComparison.Ordinal);
        SecurityAssert.NoInternals(body);

        // Chunked: no Content-Length to check up front; Kestrel stops reading at the cap.
        using var chunked = new StreamContent(new MemoryStream(Encoding.UTF8.GetBytes(big)));
        chunked.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/keys") { Content = chunked };
        request.Headers.TransferEncodingChunked = true;
        using var streamed = await client.SendAsync(request, Ct);
        Assert.True(streamed.StatusCode is HttpStatusCode.RequestEntityTooLarge or HttpStatusCode.BadRequest, ((int)streamed.StatusCode).ToString(System.Globalization.CultureInfo.InvariantCulture));
        SecurityAssert.NoInternals(await streamed.Content.ReadAsStringAsync(Ct));

        // A small body still works.
        Assert.Equal(HttpStatusCode.Created, (await client.PostAsJsonAsync("/api/v1/keys", new { role = "reader" }, Ct)).StatusCode);
        await app.StopAsync(Ct);
    }

    /// <summary>An index whose every search fails the way a broken database would, message full of internals.</summary>
    private sealed class FailingIndex : IPassageIndex
    {
        public Task<IReadOnlyList<SearchHit>> SearchAsync(SearchQuery query, CancellationToken cancellationToken = default) =>
            throw new InvalidOperationException("SQLite Error 1: 'fts5: syntax error near \"DROP\"' in SELECT rowid FROM passages_fts WHERE passages_fts MATCH $p0");
    }

    [Fact]
    public async Task An_unexpected_failure_is_a_500_problem_without_internals_and_is_logged_on_the_server()
    {
        var reader = await KeyAsync(ApiRole.Reader);
        var logs = new CapturingLoggerProvider();
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Production", ContentRootPath = AppContext.BaseDirectory, Args = [] });
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders().SetMinimumLevel(LogLevel.Warning).AddProvider(logs);
        builder.Services.AddAimsServer(_aims, o =>
        {
            o.InboxPath = Inbox;
            o.WatchInbox = false;
        });
        builder.Services.AddSingleton<IPassageIndex>(new FailingIndex());
        await using var app = builder.Build();
        app.UseAimsEvidenceApi();
        app.MapAimsEvidenceApi();
        await app.StartAsync(Ct);
        using var client = Client(app.Urls.First().TrimEnd('/'), reader);

        using var response = await client.GetAsync("/api/v1/search?q=risk", Ct);
        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var body = await response.Content.ReadAsStringAsync(Ct);
        SecurityAssert.NoInternals(body);
        Assert.DoesNotContain("DROP", body, StringComparison.Ordinal);
        Assert.DoesNotContain("passages_fts", body, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/v1/coverage", Ct)).StatusCode); // the host is still up
        await app.StopAsync(Ct);
        Assert.Contains(logs.Entries, e => e.Contains("passages_fts", StringComparison.Ordinal)); // the operator sees the cause
    }

    [Fact]
    public async Task Api_keys_never_appear_in_the_logs()
    {
        var reader = await KeyAsync(ApiRole.Reader);
        var admin = await KeyAsync(ApiRole.Admin);
        const string unknown = "aims_unknown-key-3f9c2d7e5b1a4c8d9e0f1a2b3c4d5e6f";
        var logs = new CapturingLoggerProvider();
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Production", ContentRootPath = AppContext.BaseDirectory, Args = [] });
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders().SetMinimumLevel(LogLevel.Trace).AddProvider(logs);
        builder.Services.AddAimsServer(_aims, o =>
        {
            o.InboxPath = Inbox;
            o.WatchInbox = false;
            o.RateLimit = new ApiRateLimitOptions { PermitLimit = 20, WindowSeconds = 60 };
        });
        await using var app = builder.Build();
        app.UseAimsEvidenceApi();
        app.MapAimsEvidenceApi();
        await app.StartAsync(Ct);
        var url = app.Urls.First().TrimEnd('/');

        using var readerClient = Client(url, reader);
        using var adminClient = Client(url, admin);
        using var unknownClient = Client(url, unknown);
        await readerClient.GetAsync("/api/v1/coverage", Ct);
        await readerClient.GetAsync("/api/v1/search?q=" + Uri.EscapeDataString("\"; DROP TABLE x; NEAR("), Ct);
        await readerClient.PostAsJsonAsync("/api/v1/keys", new { role = "admin" }, Ct); // 403
        await unknownClient.GetAsync("/api/v1/controls", Ct); // 401
        var created = await adminClient.PostAsJsonAsync("/api/v1/keys", new { role = "reader" }, Ct);
        var newKey = JsonNode.Parse(await created.Content.ReadAsStringAsync(Ct))!["key"]!.GetValue<string>();
        for (var i = 0; i < 25; i++)
        {
            await unknownClient.GetAsync("/api/v1/gaps", Ct); // into the rate limit
        }

        await app.StopAsync(Ct);

        var all = string.Join(Environment.NewLine, logs.Entries);
        Assert.Contains("unknown API key", all, StringComparison.Ordinal); // the capture sees the authentication log
        Assert.Contains("/api/v1/coverage", all, StringComparison.Ordinal); // and the request logs at trace level
        foreach (var secret in new[] { reader, admin, unknown, newKey })
        {
            Assert.DoesNotContain(secret, all, StringComparison.Ordinal);
            Assert.DoesNotContain(ApiKeys.Hash(secret), all, StringComparison.Ordinal);
        }
    }
}
