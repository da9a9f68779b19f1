using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using Aims.Evidence.Cli;
using Aims.Evidence.Core.Pipeline;
using Aims.Evidence.Core.Storage;
using Aims.Evidence.Hosting;
using Aims.Evidence.Local;
using Microsoft.AspNetCore.Builder;
using Microsoft.Data.Sqlite;

namespace Aims.Evidence.Api.Tests;

/// <summary>"Nothing lost, nothing let in" at the server: hostile upload names, SIGKILL mid-ingestion, load.</summary>
[Trait(Tiers.Name, Tiers.Integration)]
public sealed class ReliabilityServeTests : IAsyncLifetime
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "aims-rel-" + Guid.NewGuid().ToString("N")[..12]);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private string Inbox => Path.Combine(_dir, "inbox");

    private string Db => Path.Combine(_dir, "aims.db");

    public ValueTask InitializeAsync()
    {
        Directory.CreateDirectory(Inbox);
        return ValueTask.CompletedTask;
    }

    public ValueTask DisposeAsync()
    {
        SqliteConnection.ClearAllPools();
        TempDir.Delete(_dir);

        return ValueTask.CompletedTask;
    }

    private static string Doc(int i) => string.Create(CultureInfo.InvariantCulture, $"""
        # Procedure {i}: AI system change control

        Every change {i} to a deployed AI system is recorded in the change log with its owner, the reason and the
        risk assessment that was performed before the change. The change advisory board approves change {i} after
        reviewing the impact on fairness, robustness and transparency, and the monitoring plan is updated.

        ## Records {i}

        Records of change {i} are retained for five years and are available to internal audit on request.
        """);

    private async Task<InProcessServer> StartInProcessAsync(Aims.Evidence.Core.Extraction.ExtractionLimits? limits = null, Action<AimsApiOptions>? configure = null)
    {
        var aims = await LocalAims.OpenAsync(Db, new AimsSettings { Mapping = new() { Mapper = MapperKinds.Lexical }, Limits = limits ?? Aims.Evidence.Core.Extraction.ExtractionLimits.Default }, Ct);
        var key = (await aims.Store.CreateApiKeyAsync(ApiRole.Reviewer, "test", Ct)).Key;
        var app = AimsServer.Build(aims, Inbox, "http://127.0.0.1:0", configure: configure);
        await app.StartAsync(Ct);
        var client = new HttpClient { BaseAddress = new Uri(app.Urls.First().TrimEnd('/')) };
        client.DefaultRequestHeaders.Add("X-Api-Key", key);
        return new InProcessServer(aims, app, client);
    }

    /// <summary>A server started in this process over its own database; disposing stops it and releases all three.</summary>
    private sealed class InProcessServer(LocalAims aims, WebApplication app, HttpClient client) : IAsyncDisposable
    {
        public void Deconstruct(out LocalAims a, out WebApplication w, out HttpClient c) => (a, w, c) = (aims, app, client);

        public async ValueTask DisposeAsync()
        {
            client.Dispose();
            await app.StopAsync(CancellationToken.None);
            await app.DisposeAsync();
            aims.Dispose();
        }
    }

    /// <summary>A multipart body written by hand so the file name reaches the server exactly as a hostile client sends it.</summary>
    private static ByteArrayContent RawUpload(string fileName, string content)
    {
        const string boundary = "----aimsboundary7MA4YWxkTrZu0gW";
        var body = new StringBuilder()
            .Append("--").Append(boundary).Append("\r\n")
            .Append("Content-Disposition: form-data; name=\"file\"; filename=\"").Append(fileName).Append("\"\r\n")
            .Append("Content-Type: text/markdown\r\n\r\n")
            .Append(content).Append("\r\n")
            .Append("--").Append(boundary).Append("--\r\n");
        var result = new ByteArrayContent(Encoding.UTF8.GetBytes(body.ToString()));
        result.Headers.ContentType = MediaTypeHeaderValue.Parse($"multipart/form-data; boundary={boundary}");
        return result;
    }

    [Fact]
    public async Task Uploads_with_hostile_file_names_land_inside_the_inbox_with_safe_names()
    {
        await using var server = await StartInProcessAsync();
        var (aims, app, client) = server;
        var names = new[]
        {
            "../../evil-traversal.md", "..\\..\\evil-backslash.md", "/etc/evil-absolute.md", "ctl\u0001\u001b[2Jname.md",
            new string('L', 1000) + ".md", "....", "%2e%2e%2fencoded.md",
        };
        var accepted = new List<string>();
        for (var i = 0; i < names.Length; i++)
        {
            using var response = await client.PostAsync("/api/v1/documents", RawUpload(names[i], Doc(i)), Ct);
            Assert.True(response.StatusCode is HttpStatusCode.Accepted or HttpStatusCode.BadRequest, $"{names[i]}: {(int)response.StatusCode}");
            if (response.StatusCode == HttpStatusCode.Accepted)
            {
                var json = System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync(Ct));
                accepted.Add(json.RootElement.GetProperty("fileName").GetString()!);
            }
        }

        Assert.Equal(names.Length, accepted.Count);
        Assert.All(accepted, n =>
        {
            Assert.Matches("^[A-Za-z0-9._-]{1,120}$", n);
            Assert.False(n.StartsWith('.'));
        });

        // Nothing was written outside the inbox; every file in it has a safe name.
        Assert.DoesNotContain(Directory.EnumerateFiles(_dir, "evil*", SearchOption.AllDirectories), f => Path.GetDirectoryName(f) != Inbox);
        Assert.False(File.Exists(Path.Combine(Path.GetTempPath(), "evil-traversal.md")));
        Assert.False(File.Exists("/etc/evil-absolute.md"));
        Assert.All(Directory.EnumerateFiles(Inbox), f => Assert.Matches("^[A-Za-z0-9._-]{1,120}$", Path.GetFileName(f)));

        // The watcher ingests every upload under its safe name.
        var deadline = DateTime.UtcNow.AddSeconds(45);
        IReadOnlyList<DocumentRecord> docs = [];
        while (DateTime.UtcNow < deadline)
        {
            docs = await aims.Store.ListDocumentsAsync(cancellationToken: Ct);
            if (docs.Count >= names.Length)
            {
                break;
            }

            await Task.Delay(250, Ct);
        }

        Assert.Equal(accepted.Order(StringComparer.Ordinal), docs.Select(d => d.Name).Order(StringComparer.Ordinal));
        Assert.All(docs, d => Assert.Equal(DocumentStatus.Processed, d.Status));
    }

    [Fact]
    public async Task Inbox_file_over_the_size_cap_is_recorded_failed_and_the_next_file_is_processed()
    {
        await using var server = await StartInProcessAsync(new Aims.Evidence.Core.Extraction.ExtractionLimits { MaxFileBytes = 1024 * 1024 });
        var (aims, app, client) = server;
        // Written under a hidden name, then moved in (as uploads do): a sparse 300 MB file, over the 1 MB cap.
        var temp = Path.Combine(Inbox, ".big.part");
        await using (var fs = new FileStream(temp, FileMode.CreateNew))
        {
            fs.SetLength(300L * 1024 * 1024);
        }

        File.Move(temp, Path.Combine(Inbox, "big.txt"));
        await File.WriteAllTextAsync(Path.Combine(Inbox, "good.md"), Doc(7), Ct);

        var deadline = DateTime.UtcNow.AddSeconds(30);
        DocumentRecord? big = null;
        DocumentRecord? good = null;
        while (DateTime.UtcNow < deadline && (big is null || good is null))
        {
            big = await aims.Store.GetCurrentByNameAsync("big.txt", Ct);
            good = await aims.Store.GetCurrentByNameAsync("good.md", Ct);
            await Task.Delay(200, Ct);
        }

        Assert.NotNull(big);
        Assert.Equal(DocumentStatus.Failed, big.Status);
        Assert.Contains("limit", big.Reason, StringComparison.Ordinal);
        Assert.Equal(300L * 1024 * 1024, big.Size);
        Assert.Equal(DocumentStatus.Processed, good?.Status);
        using var health = await client.GetAsync("/api/v1/health", Ct);
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
    }

    [Fact]
    public async Task A_file_appended_for_three_seconds_becomes_one_version_of_its_final_bytes()
    {
        // Settle 1 s; the writer appends every 300 ms for 3 s, opening and closing the file each time (as `>>` in a
        // shell does: no lock held between writes). Before: one version per write that happened to pause.
        await using var server = await StartInProcessAsync(configure: o => o.InboxSettleMilliseconds = 1000);
        var (aims, app, client) = server;
        var path = Path.Combine(Inbox, "growing.md");
        var content = new StringBuilder();
        var gaps = new List<TimeSpan>();
        var clock = Stopwatch.StartNew();
        var last = TimeSpan.Zero;
        for (var i = 0; i < 10; i++)
        {
            var chunk = Doc(i);
            content.Append(chunk);
            await File.AppendAllTextAsync(path, chunk, Ct);
            gaps.Add(clock.Elapsed - last);
            last = clock.Elapsed;
            await Task.Delay(300, Ct);
        }

        var finalSha = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(content.ToString())));
        Assert.Equal(finalSha, Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(await File.ReadAllBytesAsync(path, Ct))));
        // Waits for the version of the final bytes (the watcher handles one path at a time, so a version of partial
        // bytes would have been stored before it), then counts the versions.
        var deadline = DateTime.UtcNow.AddSeconds(30);
        IReadOnlyList<DocumentRecord> versions = [];
        while (DateTime.UtcNow < deadline && !versions.Any(v => v.Sha256 == finalSha))
        {
            await Task.Delay(200, Ct);
            versions = await aims.Store.GetVersionsAsync("growing.md", Ct);
        }

        var writes = string.Join(", ", gaps.Select(g => g.TotalMilliseconds.ToString("0", CultureInfo.InvariantCulture)));
        Assert.True(versions.Count == 1, $"{versions.Count} versions (sizes {string.Join(", ", versions.Select(v => v.Size))}); ms between writes: {writes}");
        Assert.Equal(finalSha, versions[0].Sha256);
        Assert.Equal(Encoding.UTF8.GetByteCount(content.ToString()), versions[0].Size);
        Assert.Equal(DocumentStatus.Processed, versions[0].Status);
    }

    private static ByteArrayContent RawBody(string contentType, string body)
    {
        var content = new ByteArrayContent(Encoding.UTF8.GetBytes(body));
        content.Headers.TryAddWithoutValidation("Content-Type", contentType);
        return content;
    }

    private static MultipartFormDataContent Form(params (string Name, string Text)[] files)
    {
        var form = new MultipartFormDataContent();
        foreach (var (name, text) in files)
        {
            var file = new ByteArrayContent(Encoding.UTF8.GetBytes(text));
            file.Headers.ContentType = new MediaTypeHeaderValue("text/markdown");
            form.Add(file, "file", name);
        }

        return form;
    }

    private static async Task AssertProblemAsync(HttpResponseMessage response, HttpStatusCode expected, string what)
    {
        var body = await response.Content.ReadAsStringAsync(Ct);
        Assert.True(response.StatusCode == expected, $"{what}: {(int)response.StatusCode} {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    private static async Task<DocumentRecord?> WaitForAsync(LocalAims aims, string name, Func<IReadOnlyList<DocumentRecord>, bool> done)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        IReadOnlyList<DocumentRecord> versions = [];
        while (DateTime.UtcNow < deadline && !done(versions = await aims.Store.GetVersionsAsync(name, Ct)))
        {
            await Task.Delay(100, Ct);
        }

        return versions.FirstOrDefault(v => v.IsCurrent);
    }

    [Fact]
    public async Task Malformed_multipart_bodies_get_a_400_problem_and_never_a_500()
    {
        await using var server = await StartInProcessAsync();
        var (aims, app, client) = server;
        const string type = "multipart/form-data; boundary=b0undary";
        var part = "--b0undary\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.md\"\r\nContent-Type: text/markdown\r\n\r\n# A\n\nText.\r\n";
        var bodies = new (string What, string ContentType, string Body)[]
        {
            ("no boundary in the body", type, "this is not a multipart body at all"),
            ("no closing boundary", type, part),
            ("body cut inside the part headers", type, "--b0undary\r\nContent-Disposition: form-data; name=\"file\"; filen"),
            ("a header line without a colon", type, "--b0undary\r\nnot a header\r\n\r\ntext\r\n--b0undary--\r\n"),
            ("a 20 KB header line", type, "--b0undary\r\nContent-Disposition: form-data; name=\"" + new string('x', 20_000) + "\"\r\n\r\ntext\r\n--b0undary--\r\n"),
            ("no boundary parameter", "multipart/form-data", part + "--b0undary--\r\n"),
            ("an empty boundary", "multipart/form-data; boundary=", part + "--b0undary--\r\n"),
            ("a form without a file", type, "--b0undary\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\ntext\r\n--b0undary--\r\n"),
        };
        foreach (var (what, contentType, body) in bodies)
        {
            using var response = await client.PostAsync("/api/v1/documents", RawBody(contentType, body), Ct);
            await AssertProblemAsync(response, HttpStatusCode.BadRequest, what); // 500 for the unterminated bodies before
        }

        // The same well-formed body is accepted: the server is up and the 400s were about the bodies.
        using var ok = await client.PostAsync("/api/v1/documents", RawBody(type, part + "--b0undary--\r\n"), Ct);
        Assert.Equal(HttpStatusCode.Accepted, ok.StatusCode);
        Assert.Empty(Directory.EnumerateFiles(Inbox, "*.part", SearchOption.AllDirectories));
    }

    [Fact]
    public async Task Uploads_named_as_the_inbox_ignores_them_are_refused_and_a_form_is_saved_whole_or_not_at_all()
    {
        await using var server = await StartInProcessAsync(configure: o => o.InboxSettleMilliseconds = 200);
        var (aims, app, client) = server;
        // 202 "queued" and never ingested before.
        foreach (var name in new[] { "draft.part", "notes.tmp", "REPORT.MD.PART", "copy.TMP", "x.md.tmp." })
        {
            using var response = await client.PostAsync("/api/v1/documents", Form((name, Doc(1))), Ct);
            await AssertProblemAsync(response, HttpStatusCode.BadRequest, name);
            Assert.Contains("inbox ignores", await response.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
        }

        // One refused file refuses the form: nothing of it is saved.
        using (var mixed = await client.PostAsync("/api/v1/documents", Form(("good-1.md", Doc(1)), ("bad.part", Doc(2))), Ct))
        {
            await AssertProblemAsync(mixed, HttpStatusCode.BadRequest, "a good file and a .part file");
        }

        using (var twice = await client.PostAsync("/api/v1/documents", Form(("same.md", Doc(1)), ("same.md", Doc(2))), Ct))
        {
            await AssertProblemAsync(twice, HttpStatusCode.BadRequest, "one name twice");
        }

        using (var empty = await client.PostAsync("/api/v1/documents", Form(("full.md", Doc(1)), ("empty.md", string.Empty)), Ct))
        {
            await AssertProblemAsync(empty, HttpStatusCode.BadRequest, "an empty file beside a full one");
        }

        Assert.Empty(Directory.EnumerateFileSystemEntries(Inbox));

        // Several files in one form: all saved, all listed, all ingested (only the first was kept before).
        using var several = await client.PostAsync("/api/v1/documents", Form(("one.md", Doc(11)), ("two.md", Doc(12)), ("three.md", Doc(13))), Ct);
        Assert.Equal(HttpStatusCode.Accepted, several.StatusCode);
        var json = System.Text.Json.Nodes.JsonNode.Parse(await several.Content.ReadAsStringAsync(Ct))!;
        Assert.Equal(["one.md", "two.md", "three.md"], json["files"]!.AsArray().Select(f => f!["fileName"]!.GetValue<string>()));
        Assert.Equal("one.md", json["fileName"]!.GetValue<string>());
        foreach (var (name, i) in new[] { ("one.md", 11), ("two.md", 12), ("three.md", 13) })
        {
            var sha = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(Doc(i))));
            Assert.Equal(sha, json["files"]!.AsArray().Single(f => f!["fileName"]!.GetValue<string>() == name)!["sha256"]!.GetValue<string>());
            var doc = await WaitForAsync(aims, name, v => v.Count > 0);
            Assert.Equal(DocumentStatus.Processed, doc?.Status);
            Assert.Equal(sha, doc!.Sha256);
        }
    }

    [Fact]
    public async Task A_revised_upload_of_the_same_name_becomes_version_2_and_uploads_are_audited()
    {
        await using var server = await StartInProcessAsync(configure: o => o.InboxSettleMilliseconds = 200);
        var (aims, app, client) = server;
        var first = "# AI policy\n\nTop management approves the AI policy. It is reviewed every year by the AI governance board.\n";
        var revised = first + "\n## Revision\n\nThe policy now also covers AI systems provided by suppliers and is reviewed after every major incident.\n";
        using (var response = await client.PostAsync("/api/v1/documents", Form(("ai-policy.md", first)), Ct))
        {
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        }

        var v1 = await WaitForAsync(aims, "ai-policy.md", v => v.Count >= 1);
        Assert.Equal(1, v1?.Version);

        using (var response = await client.PostAsync("/api/v1/documents", Form(("ai-policy.md", revised)), Ct))
        {
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
            var json = System.Text.Json.Nodes.JsonNode.Parse(await response.Content.ReadAsStringAsync(Ct))!;
            Assert.Equal("ai-policy.md", json["fileName"]!.GetValue<string>()); // "ai-policy-2.md", a second document, before
        }

        var current = await WaitForAsync(aims, "ai-policy.md", v => v.Count >= 2);
        var revisedSha = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(revised)));
        Assert.Equal(2, current?.Version);
        Assert.Equal(revisedSha, current!.Sha256);
        Assert.Equal(["ai-policy.md"], Directory.EnumerateFiles(Inbox).Select(Path.GetFileName));
        var documents = await aims.Store.ListDocumentsAsync(cancellationToken: Ct);
        Assert.Equal(["ai-policy.md"], documents.Select(d => d.Name)); // one current document
        Assert.Equal(2, (await aims.Store.GetVersionsAsync("ai-policy.md", Ct)).Count);

        // Both uploads are in the audit log: the key's id, the stored name, size and SHA-256.
        var keyId = (await aims.Store.FindApiKeyAsync(Aims.Evidence.Core.Storage.ApiKeys.Hash(client.DefaultRequestHeaders.GetValues("X-Api-Key").Single()), Ct))!.Id;
        var audit = System.Text.Json.Nodes.JsonNode.Parse(await client.GetStringAsync("/api/v1/audit-log?limit=100", Ct))!["items"]!.AsArray()
            .Where(e => e!["action"]!.GetValue<string>() == "document.upload").ToArray();
        Assert.Equal(2, audit.Length);
        Assert.All(audit, e =>
        {
            Assert.Equal(keyId, e!["actor"]!.GetValue<string>());
            Assert.Equal("ai-policy.md", e["target"]!.GetValue<string>());
        });
        var after = System.Text.Json.Nodes.JsonNode.Parse(audit[^1]!["after"]!.GetValue<string>())!;
        Assert.Equal("ai-policy.md", after["name"]!.GetValue<string>());
        Assert.Equal(Encoding.UTF8.GetByteCount(revised), after["size"]!.GetValue<long>());
        Assert.Equal(revisedSha, after["sha256"]!.GetValue<string>());
    }

    private static void MakeFifo(string path)
    {
        using var mkfifo = Process.Start(new ProcessStartInfo("mkfifo") { ArgumentList = { path }, UseShellExecute = false })!;
        mkfifo.WaitForExit();
        Assert.Equal(0, mkfifo.ExitCode);
    }

    [Fact]
    public async Task Special_files_in_the_inbox_are_skipped_without_blocking_and_links_are_not_followed()
    {
        Assert.SkipWhen(OperatingSystem.IsWindows(), "FIFOs and Unix sockets are POSIX file types.");
        var outside = Path.Combine(_dir, "outside");
        Directory.CreateDirectory(outside);
        const string secret = "root:x:0:0 SECRET-OUTSIDE-THE-INBOX";
        var secretFile = Path.Combine(outside, "passwd");
        await File.WriteAllTextAsync(secretFile, Doc(1) + secret, Ct);
        await File.WriteAllTextAsync(Path.Combine(outside, "secret.md"), Doc(2) + secret, Ct);

        // Found by the startup scan.
        var fifos = new[] { "pipe-1.md", "pipe-2.md", "pipe-3.md" }.Select(n => Path.Combine(Inbox, n)).ToArray();
        MakeFifo(fifos[0]);
        File.CreateSymbolicLink(Path.Combine(Inbox, "link.md"), secretFile);
        var (aims, app, client) = await StartInProcessAsync();
        var stopped = false;
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            // Found by the watcher: two more FIFOs (three in all, more than the workers, which all blocked in open()
            // before), a socket, a link to a folder outside the inbox, then a good file.
            MakeFifo(fifos[1]);
            MakeFifo(fifos[2]);
            socket.Bind(new UnixDomainSocketEndPoint(Path.Combine(Inbox, "socket.md")));
            Directory.CreateSymbolicLink(Path.Combine(Inbox, "linked-folder"), outside);
            await File.WriteAllTextAsync(Path.Combine(Inbox, "good.md"), Doc(3), Ct);

            var expected = new Dictionary<string, string>
            {
                ["pipe-1.md"] = "FIFO", ["pipe-2.md"] = "FIFO", ["pipe-3.md"] = "FIFO", ["socket.md"] = "socket",
                ["link.md"] = "symbolic link", ["linked-folder"] = "symbolic link",
            };
            var deadline = DateTime.UtcNow.AddSeconds(30);
            Dictionary<string, DocumentRecord> docs = [];
            while (DateTime.UtcNow < deadline && !(docs.Count == expected.Count + 1 && docs.Values.All(d => d.Status != DocumentStatus.Failed)))
            {
                await Task.Delay(200, Ct);
                docs = (await aims.Store.ListDocumentsAsync(cancellationToken: Ct)).ToDictionary(d => d.Name);
            }

            Assert.True(docs.TryGetValue("good.md", out var good), "good.md was not ingested in 30 s: " + string.Join(", ", docs.Keys));
            Assert.Equal(DocumentStatus.Processed, good.Status);
            Assert.Equal(expected.Keys.Append("good.md").Order(StringComparer.Ordinal), docs.Keys.Order(StringComparer.Ordinal));
            foreach (var (name, kind) in expected)
            {
                Assert.Equal(DocumentStatus.Skipped, docs[name].Status);
                Assert.Equal($"not a regular file ({kind}); not read", docs[name].Reason);
            }

            foreach (var doc in docs.Values)
            {
                Assert.DoesNotContain(await aims.Store.GetPassagesAsync(doc.Id, Ct), p => p.Passage.Text.Contains("SECRET-OUTSIDE", StringComparison.Ordinal));
            }

            using var health = await client.GetAsync("/api/v1/health", Ct);
            Assert.Equal(HttpStatusCode.OK, health.StatusCode);

            // No worker is held in open(): shutdown is prompt (32 s with three FIFOs before).
            var clock = Stopwatch.StartNew();
            await app.StopAsync(CancellationToken.None);
            stopped = true;
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(15), $"shutdown took {clock.Elapsed}");
        }
        finally
        {
            if (!stopped)
            {
                foreach (var fifo in fifos)
                {
                    // Release any worker blocked in open() so the host can stop.
                    _ = Task.Run(() =>
                    {
                        using var writer = new FileStream(fifo, FileMode.Open, FileAccess.Write);
                    }, CancellationToken.None);
                }

                await app.StopAsync(CancellationToken.None);
            }

            client.Dispose();
            await app.DisposeAsync();
            aims.Dispose();
        }
    }

    [Fact]
    public async Task Parallel_ingestion_while_a_client_hammers_the_api_gives_no_5xx_and_no_locked_database()
    {
        await using var server = await StartInProcessAsync();
        var (aims, app, client) = server;
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var failures = new List<string>();
        var requests = 0;
        var endpoints = new[] { "/api/v1/documents", "/api/v1/gaps", "/api/v1/coverage", "/api/v1/search?q=change%20control", "/api/v1/controls/A.6.2.6", "/api/v1/exports/soa" };

        async Task Hammer(int worker)
        {
            var k = worker;
            while (!stop.IsCancellationRequested)
            {
                var url = endpoints[k++ % endpoints.Length];
                try
                {
                    using var response = await client.GetAsync(url, stop.Token);
                    var body = await response.Content.ReadAsStringAsync(stop.Token);
                    Interlocked.Increment(ref requests);
                    if ((int)response.StatusCode >= 500 || body.Contains("database is locked", StringComparison.OrdinalIgnoreCase))
                    {
                        lock (failures)
                        {
                            failures.Add($"{url}: {(int)response.StatusCode} {body[..Math.Min(200, body.Length)]}");
                        }
                    }
                }
                catch (OperationCanceledException) when (stop.IsCancellationRequested)
                {
                    return;
                }
            }
        }

        var hammers = Enumerable.Range(0, 4).Select(w => Task.Run(() => Hammer(w), Ct)).ToArray();

        // Warm up (JIT, first gap report) so the requests really overlap the ingestion below.
        var warm = Stopwatch.StartNew();
        while (Volatile.Read(ref requests) < 8 && warm.Elapsed < TimeSpan.FromSeconds(30))
        {
            await Task.Delay(50, Ct);
        }

        var atStart = Volatile.Read(ref requests);

        // Ingestion bounded by the cores, each worker with its own pipeline over the shared store, in rounds of 100
        // documents until the API has answered 20 requests meanwhile (ingestion is fast enough to finish a round
        // between two slow export requests); an API starved by the writes never gets there within 10 rounds.
        var outcomes = new System.Collections.Concurrent.ConcurrentBag<IngestOutcome>();
        var documents = 0;
        var during = 0;
        for (var round = 0; round < 10 && during < 20; round++)
        {
            await Parallel.ForEachAsync(Enumerable.Range(documents, 100), new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount, CancellationToken = Ct }, async (i, ct) =>
            {
                outcomes.Add(await aims.CreatePipeline().IngestAsync($"load/doc-{i:D4}.md", Encoding.UTF8.GetBytes(Doc(1000 + i)), ct));
            });
            documents += 100;
            during = Volatile.Read(ref requests) - atStart;
        }

        await stop.CancelAsync();
        await Task.WhenAll(hammers);

        Assert.Empty(failures);
        Assert.True(during >= 20, $"only {during} API requests completed during the ingestion of {documents} documents ({requests} in all)");
        Assert.Equal(documents, outcomes.Count(o => o.Status == IngestStatus.Processed));
    }

    private Process StartServe(string dll, int port, List<string> log) =>
        BuiltCli.Start(dll, ["serve", "--db", Db, "--inbox", Inbox, "--urls", $"http://127.0.0.1:{port}", "--mapper", "lexical"], line => Log(log, line));

    private static void Log(List<string> log, string line)
    {
        lock (log)
        {
            log.Add(line);
            if (log.Count > 200)
            {
                log.RemoveAt(0);
            }
        }
    }

    private async Task<long> ScalarAsync(string sql)
    {
        if (!File.Exists(Db))
        {
            return 0;
        }

        try
        {
            await using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = Db, Mode = SqliteOpenMode.ReadOnly, Pooling = false, DefaultTimeout = 5 }.ToString());
            await connection.OpenAsync(Ct);
            await using var cmd = connection.CreateCommand();
            cmd.CommandText = sql;
            return Convert.ToInt64(await cmd.ExecuteScalarAsync(Ct), CultureInfo.InvariantCulture);
        }
        catch (SqliteException)
        {
            return 0; // schema not there yet, or a writer holds the lock for a moment
        }
    }

    private Task<long> ProcessedAsync() => ScalarAsync("SELECT COUNT(*) FROM documents WHERE status = 'processed'");

    [Fact]
    [Trait(Tiers.Name, Tiers.Slow)]
    public async Task Serve_killed_with_sigkill_mid_ingestion_resumes_and_processes_every_document_exactly_once()
    {
        var dll = BuiltCli.RequireAimsDll();

        const int total = 200;
        for (var i = 0; i < total; i++)
        {
            await File.WriteAllTextAsync(Path.Combine(Inbox, $"doc-{i:D3}.md"), Doc(i), Ct);
        }

        var log = new List<string>();
        var clock = Stopwatch.StartNew();
        var first = StartServe(dll, FreePort.Next(), log);
        long before;
        try
        {
            // Wait until some, not all, are processed, then SIGKILL (no graceful shutdown, no flush).
            while ((before = await ProcessedAsync()) < 5)
            {
                Assert.False(first.HasExited, "aims serve exited early: " + string.Join('\n', log));
                Assert.True(clock.Elapsed < TimeSpan.FromSeconds(40), "no document processed in 40 s: " + string.Join('\n', log));
                await Task.Delay(50, Ct);
            }
        }
        finally
        {
            first.Kill(entireProcessTree: true);
            await first.WaitForExitAsync(Ct);
            first.Dispose();
        }

        before = await ProcessedAsync();
        Assert.InRange(before, 1, total - 1);

        var second = StartServe(dll, FreePort.Next(), log);
        try
        {
            while (await ProcessedAsync() < total)
            {
                Assert.False(second.HasExited, "aims serve exited: " + string.Join('\n', log));
                Assert.True(clock.Elapsed < TimeSpan.FromSeconds(150), $"{await ProcessedAsync()} of {total} processed after {clock.Elapsed}");
                await Task.Delay(250, Ct);
            }
        }
        finally
        {
            second.Kill(entireProcessTree: true);
            await second.WaitForExitAsync(Ct);
            second.Dispose();
        }

        // Exactly once: one row per name, current, version 1, processed.
        Assert.Equal(total, await ScalarAsync("SELECT COUNT(*) FROM documents"));
        Assert.Equal(total, await ScalarAsync("SELECT COUNT(DISTINCT name) FROM documents WHERE is_current = 1 AND version = 1 AND status = 'processed'"));

        // No duplicate passages or mappings, no half-written version.
        Assert.Equal(0, await ScalarAsync("SELECT COUNT(*) FROM (SELECT document_id, ordinal FROM passages GROUP BY document_id, ordinal HAVING COUNT(*) > 1)"));
        Assert.Equal(0, await ScalarAsync("SELECT COUNT(*) FROM (SELECT passage_id, control_id FROM mappings GROUP BY passage_id, control_id HAVING COUNT(*) > 1)"));
        Assert.Equal(0, await ScalarAsync("SELECT COUNT(*) FROM documents d WHERE d.passage_count <> (SELECT COUNT(*) FROM passages p WHERE p.document_id = d.id)"));
        Assert.Equal(0, await ScalarAsync("SELECT COUNT(*) FROM documents WHERE status = 'processed' AND passage_count = 0"));
        Assert.Equal(await ScalarAsync("SELECT COUNT(*) FROM passages"), await ScalarAsync("SELECT COUNT(*) FROM passages_fts"));
        Assert.Equal("ok", await IntegrityAsync());
        TestContext.Current.SendDiagnosticMessage($"crash test: killed after {before} processed; all {total} in {clock.Elapsed}");
    }

    private async Task<string> IntegrityAsync()
    {
        await using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = Db, Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString());
        await connection.OpenAsync(Ct);
        await using var cmd = connection.CreateCommand();
        cmd.CommandText = "PRAGMA integrity_check";
        return (string)(await cmd.ExecuteScalarAsync(Ct))!;
    }
}
