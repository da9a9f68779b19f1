using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using Aims.Evidence.Cli;
using Aims.Evidence.Core.Storage;
using Aims.Evidence.Sqlite;
using Microsoft.Data.Sqlite;

namespace Aims.Evidence.Tools;

/// <summary>
/// `aims-tools bench soak`: a real `aims serve` child process ingests N distinct documents dropped into its inbox while C
/// connections query the API for the whole run; prints ingestion throughput, latency percentiles per endpoint, errors
/// by kind (which must be zero), the server's peak memory and exactly-once checks of the resulting database.
/// </summary>
public static partial class AimsTools
{
    private static Command SoakCommand(TextWriter output, TextWriter error, Option<string> files)
    {
        var docs = new Option<int>("--docs") { Description = "Documents dropped into the inbox.", DefaultValueFactory = _ => 1000 };
        var connections = new Option<int>("--connections") { Description = "Concurrent API connections for the whole run.", DefaultValueFactory = _ => 64 };
        var mapper = AimsCli.MapperOption();
        var keepDb = new Option<string?>("--keep-db") { Description = "Create the server's database at this path and keep it (default: a temp file, deleted)." };
        var timeout = new Option<int>("--timeout-minutes") { Description = "Give up (and report the missing documents as errors) after this long.", DefaultValueFactory = _ => 120 };
        var generated = new Option<bool>("--generated") { Description = "Generate the documents' text instead of copying small corpus files from --files." };
        var serverEnv = new Option<string[]>("--server-env")
        {
            Description = "KEY=VALUE environment variable for the `aims serve` child (repeatable), e.g. a configuration setting.",
            AllowMultipleArgumentsPerToken = true,
        };
        var ingestConcurrency = new Option<int>("--ingest-concurrency") { Description = "Passed to `aims serve`: inbox documents ingested at the same time (0 = one per core)." };
        var aims = new Option<string>("--aims")
        {
            Description = "The aims executable to serve: aims.dll (run with dotnet) or the aims apphost. Default: the aims.dll built next to aims-tools.",
            DefaultValueFactory = _ => Path.Combine(AppContext.BaseDirectory, "aims.dll"),
        };
        var json = AimsCli.JsonOption();
        var soak = new Command("soak", "Load and soak: `aims serve` ingests --docs documents while --connections clients query the API; errors must be zero.")
        {
            docs, connections, mapper, keepDb, timeout, generated, serverEnv, ingestConcurrency, aims, json,
        };
        soak.SetAction(async (parse, ct) => await SoakAsync(
            output,
            error,
            new SoakSettings(
                parse.GetValue(files)!,
                Math.Max(1, parse.GetValue(docs)),
                Math.Max(1, parse.GetValue(connections)),
                // Unset, `aims serve` decides (Aims:Mapping:Mapper, default trained), and the report says which.
                parse.GetValue(mapper) ?? AimsCli.LoadSettings().Mapping.Mapper,
                parse.GetValue(keepDb),
                TimeSpan.FromMinutes(Math.Max(1, parse.GetValue(timeout))),
                parse.GetValue(generated),
                parse.GetValue(serverEnv) ?? [],
                Math.Max(0, parse.GetValue(ingestConcurrency)),
                parse.GetValue(aims)!,
                parse.GetValue(json)),
            ct).ConfigureAwait(false));
        return soak;
    }

    private sealed record SoakSettings(string Files, int Docs, int Connections, string Mapper, string? KeepDb, TimeSpan Timeout, bool Generated, string[] ServerEnv, int IngestConcurrency, string Aims, bool Json);

    /// <summary>The request mix: weights by repetition (dashboards read coverage and documents, auditors search and open controls).</summary>
    private static readonly string[] SoakMix = ["coverage", "search", "documents", "control", "search", "gaps", "coverage", "search", "documents", "control", "soa"];

    private static readonly string[] SoakQueries = ["risk assessment", "impact assessment", "data quality", "human oversight", "incident response", "model card", "change control", "bias"];

    private static readonly string[] SoakControls = ["A.6.2.6", "6.1.2", "A.5.2", "A.7.4", "9.2", "A.2.2", "8.4", "A.9.3"];

    private static string SoakPath(string endpoint, int n) => endpoint switch
    {
        "coverage" => "/api/v1/coverage",
        "gaps" => "/api/v1/gaps",
        "documents" => "/api/v1/documents?limit=50",
        "search" => "/api/v1/search?q=" + Uri.EscapeDataString(SoakQueries[n % SoakQueries.Length]),
        "control" => "/api/v1/controls/" + SoakControls[n % SoakControls.Length],
        "soa" => "/api/v1/exports/soa",
        _ => throw new ArgumentOutOfRangeException(nameof(endpoint)),
    };

    private sealed class SoakLoad
    {
        private readonly Dictionary<string, long> _errors = new(StringComparer.Ordinal);
        private readonly List<string> _samples = [];

        public long Requests;

        public List<(int Endpoint, double Ms)>[] Latencies { get; init; } = [];

        public void Error(string kind, string detail)
        {
            lock (_errors)
            {
                _errors[kind] = _errors.GetValueOrDefault(kind) + 1;
                if (_samples.Count < 10)
                {
                    _samples.Add($"{kind}: {detail}");
                }
            }
        }

        public Dictionary<string, long> Errors
        {
            get
            {
                lock (_errors)
                {
                    return new Dictionary<string, long>(_errors, StringComparer.Ordinal);
                }
            }
        }

        public List<string> Samples
        {
            get
            {
                lock (_errors)
                {
                    return [.. _samples];
                }
            }
        }
    }

    private static async Task<int> SoakAsync(TextWriter output, TextWriter error, SoakSettings s, CancellationToken ct)
    {
        var loadStart = Load();
        var work = Path.Combine(Path.GetTempPath(), "aims-soak-" + Guid.NewGuid().ToString("N")[..12]);
        var inbox = Path.Combine(work, "inbox");
        Directory.CreateDirectory(inbox);
        var db = s.KeepDb is null ? Path.Combine(work, "aims.db") : Path.GetFullPath(s.KeepDb);
        if (s.KeepDb is not null)
        {
            DeleteDb(db);
        }

        var log = new SoakLog();
        Process? server = null;

        // SIGTERM, Ctrl+C or the end of the soak process must not leave the server running.
        void KillServer()
        {
            try
            {
                server?.Kill(entireProcessTree: true);
            }
            catch (InvalidOperationException)
            {
            }
        }

        void OnExit(object? sender, EventArgs e) => KillServer();
        AppDomain.CurrentDomain.ProcessExit += OnExit;
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, _ => KillServer());
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, _ => KillServer());
        try
        {
            var documents = await SoakDocumentsAsync(s, ct).ConfigureAwait(false);
            string key;
            using (var store = new SqliteEvidenceStore(db))
            {
                key = (await store.CreateApiKeyAsync(ApiRole.Reader, "soak", ct).ConfigureAwait(false)).Key;
            }

            SqliteConnection.ClearAllPools();
            var port = SoakFreePort();
            var baseUrl = $"http://127.0.0.1:{port}";
            server = SoakStartServer(s, db, inbox, baseUrl, log);
            await error.WriteLineAsync($"soak: aims serve pid {server.Id} on {baseUrl}, mapper {s.Mapper}, {s.Docs} documents ({documents.Source}), {s.Connections} connections; load {loadStart}").ConfigureAwait(false);

            using var handler = new SocketsHttpHandler
            {
                MaxConnectionsPerServer = Math.Max(s.Connections, 1),
                PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
                ConnectTimeout = TimeSpan.FromSeconds(10),
            };
            using var client = new HttpClient(handler) { BaseAddress = new Uri(baseUrl), Timeout = Timeout.InfiniteTimeSpan };
            client.DefaultRequestHeaders.Add("X-Api-Key", key);
            await SoakWaitReadyAsync(client, server, log, ct).ConfigureAwait(false);

            // One unmeasured pass over every endpoint: JIT, first gap report, and a check that the key is accepted.
            foreach (var endpoint in SoakMix.Distinct())
            {
                using var warm = await client.GetAsync(SoakPath(endpoint, 0), ct).ConfigureAwait(false);
                if (!warm.IsSuccessStatusCode)
                {
                    throw new UsageException($"warm-up {SoakPath(endpoint, 0)} returned {(int)warm.StatusCode}: {Trim(await warm.Content.ReadAsStringAsync(ct).ConfigureAwait(false))}");
                }
            }

            var memory = new SoakMemory(server.Id);
            memory.Sample();
            var load = new SoakLoad { Latencies = Enumerable.Range(0, s.Connections).Select(_ => new List<(int, double)>(4096)).ToArray() };
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
            var clock = Stopwatch.StartNew();
            var loops = Enumerable.Range(0, s.Connections).Select(c => Task.Run(() => SoakLoopAsync(client, c, load, stop.Token), CancellationToken.None)).ToArray();

            // Drop the documents the way a client should: written under a hidden .part name, then renamed into place.
            var firstLanded = TimeSpan.Zero;
            var landed = 0;
            foreach (var (name, text) in documents.Items)
            {
                var temp = Path.Combine(inbox, "." + name + ".part");
                await File.WriteAllTextAsync(temp, text, ct).ConfigureAwait(false);
                File.Move(temp, Path.Combine(inbox, name));
                if (landed++ == 0)
                {
                    firstLanded = clock.Elapsed;
                }
            }

            var allLanded = clock.Elapsed;
            var (done, lastProgress) = await SoakWaitForIngestionAsync(error, db, s, server, memory, log, clock, ct).ConfigureAwait(false);
            var ingestSeconds = (clock.Elapsed - firstLanded).TotalSeconds;
            await stop.CancelAsync().ConfigureAwait(false);
            await Task.WhenAll(loops).ConfigureAwait(false);
            var loadSeconds = clock.Elapsed.TotalSeconds;
            memory.Sample();

            if (!done)
            {
                load.Error("not-processed", $"{s.Docs - lastProgress} of {s.Docs} documents had no terminal status after {s.Timeout.TotalMinutes} min");
            }

            if (server.HasExited)
            {
                load.Error("server-exited", $"exit code {server.ExitCode}: {string.Join(" | ", log.Tail(5))}");
            }

            foreach (var line in log.Failures)
            {
                load.Error("server-log-fail", line);
            }

            var checks = await SoakChecksAsync(db, s.Docs, ct).ConfigureAwait(false);
            var report = SoakReportOf(s, documents.Source, loadStart, Load(), firstLanded, allLanded, ingestSeconds, loadSeconds, load, memory, checks);
            if (s.Json)
            {
                await output.WriteLineAsync(JsonSerializer.Serialize(report, AimsCli.Json)).ConfigureAwait(false);
            }
            else
            {
                await SoakPrintAsync(output, report).ConfigureAwait(false);
            }

            return report.Passed ? ExitCodes.Ok : ExitCodes.Error;
        }
        finally
        {
            AppDomain.CurrentDomain.ProcessExit -= OnExit;
            if (server is not null)
            {
                if (!server.HasExited)
                {
                    server.Kill(entireProcessTree: true);
                    await server.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
                }

                server.Dispose();
            }

            SqliteConnection.ClearAllPools();
            try
            {
                if (s.KeepDb is null)
                {
                    Directory.Delete(work, recursive: true);
                }
                else
                {
                    Directory.Delete(inbox, recursive: true);
                    Directory.Delete(work, recursive: true);
                }
            }
            catch (IOException)
            {
            }
        }
    }

    private static string Trim(string text) => text.Length <= 200 ? text : text[..200];

    private static async Task SoakLoopAsync(HttpClient client, int connection, SoakLoad load, CancellationToken stop)
    {
        var latencies = load.Latencies[connection];
        var n = connection;
        while (!stop.IsCancellationRequested)
        {
            var slot = n % SoakMix.Length;
            var path = SoakPath(SoakMix[slot], n / SoakMix.Length);
            n++;
            using var perRequest = CancellationTokenSource.CreateLinkedTokenSource(stop);
            perRequest.CancelAfter(TimeSpan.FromSeconds(30));
            var clock = Stopwatch.StartNew();
            try
            {
                using var response = await client.GetAsync(path, HttpCompletionOption.ResponseContentRead, perRequest.Token).ConfigureAwait(false);
                var ms = clock.Elapsed.TotalMilliseconds;
                Interlocked.Increment(ref load.Requests);
                latencies.Add((slot, ms));
                if (!response.IsSuccessStatusCode)
                {
                    load.Error($"http-{(int)response.StatusCode}", $"{path}: {Trim(await response.Content.ReadAsStringAsync(CancellationToken.None).ConfigureAwait(false))}");
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return; // the run is over; an interrupted request is not counted
            }
            catch (OperationCanceledException)
            {
                Interlocked.Increment(ref load.Requests);
                load.Error("timeout-30s", path);
            }
            catch (HttpRequestException ex) when (ex.InnerException is SocketException or IOException)
            {
                Interlocked.Increment(ref load.Requests);
                load.Error("socket", $"{path}: {ex.InnerException!.Message}");
            }
            catch (HttpRequestException ex)
            {
                Interlocked.Increment(ref load.Requests);
                load.Error("http-client", $"{path}: {ex.Message}");
            }
        }
    }

    private sealed record SoakDocuments(string Source, List<(string Name, string Text)> Items);

    private static async Task<SoakDocuments> SoakDocumentsAsync(SoakSettings s, CancellationToken ct)
    {
        var items = new List<(string, string)>(s.Docs);
        if (!s.Generated)
        {
            // Small text documents of the corpus, each copy made unique (name and a numbered line), as in `bench memory`.
            var small = Directory.Exists(s.Files)
                ? AimsCli.EnumerateInputs([s.Files])
                    .Where(f => new FileInfo(f.Path).Length <= 16 * 1024 && (f.Path.EndsWith(".md", StringComparison.OrdinalIgnoreCase) || f.Path.EndsWith(".yaml", StringComparison.OrdinalIgnoreCase) || f.Path.EndsWith(".rst", StringComparison.OrdinalIgnoreCase)))
                    .ToArray()
                : [];
            if (small.Length == 0)
            {
                throw new UsageException($"no small text documents (.md/.yaml/.rst, <= 16 KB) in {s.Files}; pass --files DIR or --generated");
            }

            var texts = new Dictionary<string, string>(StringComparer.Ordinal);
            for (var i = 0; i < s.Docs; i++)
            {
                var src = small[i % small.Length];
                if (!texts.TryGetValue(src.Path, out var text))
                {
                    texts[src.Path] = text = await File.ReadAllTextAsync(src.Path, ct).ConfigureAwait(false);
                }

                var suffix = Path.GetExtension(src.Path).Equals(".yaml", StringComparison.OrdinalIgnoreCase)
                    ? $"\n# soak copy {i}\n"
                    : $"\n\nSoak copy number {i}, reviewed by team {i % 17} in cycle {i / 17}.\n";
                items.Add(($"{i:D5}-{Path.GetFileName(src.Path)}", text + suffix));
            }

            return new SoakDocuments($"{small.Length} corpus templates from {s.Files}", items);
        }

        string[] topics = ["change control", "data quality", "impact assessment", "incident response", "human oversight", "supplier review", "model monitoring", "access control"];
        for (var i = 0; i < s.Docs; i++)
        {
            var topic = topics[i % topics.Length];
            items.Add(($"{i:D5}-procedure.md", string.Create(CultureInfo.InvariantCulture, $"""
                # Procedure {i}: AI system {topic}

                Every {topic} activity number {i} for a deployed AI system is recorded with its owner, the reason and
                the risk assessment that was performed before it. The governance board approves activity {i} after
                reviewing the impact on fairness, robustness and transparency, and the monitoring plan is updated.

                ## Records of activity {i}

                Records of {topic} activity {i} are retained for five years and are available to internal audit on
                request. Team {i % 17} reviews them in cycle {i / 17}.
                """)));
        }

        return new SoakDocuments("generated procedures", items);
    }

    private static int SoakFreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>Server output, kept short: the last lines, and every line the console logger marks fail or crit.</summary>
    private sealed class SoakLog
    {
        private readonly Queue<string> _tail = new();
        private readonly List<string> _failures = [];

        public void Add(string? line)
        {
            if (line is null)
            {
                return;
            }

            lock (_tail)
            {
                _tail.Enqueue(line);
                if (_tail.Count > 50)
                {
                    _tail.Dequeue();
                }

                if (line.StartsWith("fail:", StringComparison.Ordinal) || line.StartsWith("crit:", StringComparison.Ordinal)
                    || line.Contains("database is locked", StringComparison.OrdinalIgnoreCase) || line.Contains("SQLITE_BUSY", StringComparison.Ordinal))
                {
                    _failures.Add(Trim(line));
                }
            }
        }

        public string[] Tail(int n)
        {
            lock (_tail)
            {
                return _tail.TakeLast(n).ToArray();
            }
        }

        public string[] Failures
        {
            get
            {
                lock (_tail)
                {
                    return [.. _failures];
                }
            }
        }
    }

    private static Process SoakStartServer(SoakSettings s, string db, string inbox, string url, SoakLog log)
    {
        // The real `aims serve` with its own runtime settings (aims.runtimeconfig.json): aims.dll under the dotnet host
        // that runs this process, or an apphost as it is.
        var aims = Path.GetFullPath(s.Aims);
        if (!File.Exists(aims))
        {
            throw new UsageException($"no aims executable at {s.Aims} (build src/Aims.Evidence.Cli or pass --aims PATH)");
        }

        ProcessStartInfo info;
        if (aims.EndsWith(".dll", StringComparison.OrdinalIgnoreCase))
        {
            var self = Environment.ProcessPath ?? "dotnet";
            var dotnet = Path.GetFileNameWithoutExtension(self).Equals("dotnet", StringComparison.OrdinalIgnoreCase) ? self : Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet";
            info = new ProcessStartInfo(dotnet);
            info.ArgumentList.Add(aims);
        }
        else
        {
            info = new ProcessStartInfo(aims);
        }

        info.UseShellExecute = false;
        info.RedirectStandardOutput = true;
        info.RedirectStandardError = true;
        foreach (var arg in new[] { "serve", "--db", db, "--inbox", inbox, "--urls", url, "--mapper", s.Mapper, "--ingest-concurrency", s.IngestConcurrency.ToString(Inv) })
        {
            info.ArgumentList.Add(arg);
        }

        // All connections share one reader key, so the per-key rate limiter (600 requests per 10 s by default) would
        // answer most of them 429: the soak measures the server, so the limiter is off unless --server-env sets it.
        info.Environment["AIMS__API__RATELIMIT__PERMITLIMIT"] = "0";
        foreach (var pair in s.ServerEnv)
        {
            var eq = pair.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0)
            {
                throw new UsageException($"--server-env expects KEY=VALUE, got '{pair}'");
            }

            info.Environment[pair[..eq]] = pair[(eq + 1)..];
        }

        var process = Process.Start(info) ?? throw new InvalidOperationException("could not start aims serve");
        process.OutputDataReceived += (_, e) => log.Add(e.Data);
        process.ErrorDataReceived += (_, e) => log.Add(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private static async Task SoakWaitReadyAsync(HttpClient client, Process server, SoakLog log, CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            if (server.HasExited)
            {
                throw new UsageException($"aims serve exited with {server.ExitCode}: {string.Join(" | ", log.Tail(10))}");
            }

            try
            {
                using var health = await client.GetAsync("/api/v1/health", ct).ConfigureAwait(false);
                if (health.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // not listening yet
            }

            if (clock.Elapsed > TimeSpan.FromSeconds(120))
            {
                throw new UsageException("aims serve did not answer /api/v1/health within 120 s: " + string.Join(" | ", log.Tail(10)));
            }

            await Task.Delay(200, ct).ConfigureAwait(false);
        }
    }

    /// <summary>Peak memory of the server from /proc/PID/status: VmHWM (the kernel's resident high-water mark), sampled.</summary>
    private sealed class SoakMemory(int pid)
    {
        public long PeakHwmKb { get; private set; }

        public long PeakRssKb { get; private set; }

        public int Samples { get; private set; }

        public void Sample()
        {
            try
            {
                foreach (var line in File.ReadLines($"/proc/{pid}/status"))
                {
                    if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                    {
                        PeakHwmKb = Math.Max(PeakHwmKb, Kb(line));
                    }
                    else if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                    {
                        PeakRssKb = Math.Max(PeakRssKb, Kb(line));
                    }
                }

                Samples++;
            }
            catch (IOException)
            {
                // the process is gone (reported separately) or this is not Linux
            }
            catch (UnauthorizedAccessException)
            {
            }
        }

        private static long Kb(string line) => long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
    }

    private static SqliteConnection SoakReadOnly(string db) => new(new SqliteConnectionStringBuilder { DataSource = db, Mode = SqliteOpenMode.ReadOnly, Pooling = false, DefaultTimeout = 30 }.ToString());

    private static async Task<long> SoakScalarAsync(SqliteConnection connection, string sql, CancellationToken ct)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        return Convert.ToInt64(await command.ExecuteScalarAsync(ct).ConfigureAwait(false), CultureInfo.InvariantCulture);
    }

    private static async Task<(bool Done, long Terminal)> SoakWaitForIngestionAsync(TextWriter error, string db, SoakSettings s, Process server, SoakMemory memory, SoakLog log, Stopwatch clock, CancellationToken ct)
    {
        long terminal = 0;
        var nextReport = TimeSpan.FromSeconds(10);
        while (clock.Elapsed < s.Timeout)
        {
            await Task.Delay(250, ct).ConfigureAwait(false);
            memory.Sample();
            if (server.HasExited)
            {
                return (false, terminal);
            }

            try
            {
                await using var connection = SoakReadOnly(db);
                await connection.OpenAsync(ct).ConfigureAwait(false);
                terminal = await SoakScalarAsync(connection, "SELECT COUNT(DISTINCT name) FROM documents WHERE is_current = 1 AND status IN ('processed', 'failed', 'skipped')", ct).ConfigureAwait(false);
            }
            catch (SqliteException ex)
            {
                await error.WriteLineAsync($"soak: progress read failed ({ex.SqliteErrorCode}): {ex.Message}").ConfigureAwait(false);
            }

            if (terminal >= s.Docs)
            {
                return (true, terminal);
            }

            if (clock.Elapsed >= nextReport)
            {
                nextReport += TimeSpan.FromSeconds(30);
                await error.WriteLineAsync($"soak: {clock.Elapsed.TotalSeconds:F0} s  {terminal}/{s.Docs} documents  VmHWM {memory.PeakHwmKb / 1024} MB  server log failures {log.Failures.Length}  load {Load()}").ConfigureAwait(false);
            }
        }

        return (false, terminal);
    }

    private sealed record SoakChecks(
        long Rows,
        long DistinctNames,
        long CurrentVersion1Processed,
        long Failed,
        long Skipped,
        long Pages,
        long Passages,
        long DuplicatePassages,
        long DuplicateMappings,
        long PassageCountMismatches,
        long FtsRows,
        string IntegrityCheck,
        bool ExactlyOnce);

    private static async Task<SoakChecks> SoakChecksAsync(string db, int docs, CancellationToken ct)
    {
        await using var c = SoakReadOnly(db);
        await c.OpenAsync(ct).ConfigureAwait(false);
        var rows = await SoakScalarAsync(c, "SELECT COUNT(*) FROM documents", ct).ConfigureAwait(false);
        var names = await SoakScalarAsync(c, "SELECT COUNT(DISTINCT name) FROM documents", ct).ConfigureAwait(false);
        var processed = await SoakScalarAsync(c, "SELECT COUNT(*) FROM documents WHERE is_current = 1 AND version = 1 AND status = 'processed'", ct).ConfigureAwait(false);
        var failed = await SoakScalarAsync(c, "SELECT COUNT(*) FROM documents WHERE status = 'failed'", ct).ConfigureAwait(false);
        var skipped = await SoakScalarAsync(c, "SELECT COUNT(*) FROM documents WHERE status = 'skipped'", ct).ConfigureAwait(false);
        var pages = await SoakScalarAsync(c, "SELECT COALESCE(SUM(page_count), 0) FROM documents WHERE status = 'processed'", ct).ConfigureAwait(false);
        var passages = await SoakScalarAsync(c, "SELECT COUNT(*) FROM passages", ct).ConfigureAwait(false);
        var dupPassages = await SoakScalarAsync(c, "SELECT COUNT(*) FROM (SELECT document_id, ordinal FROM passages GROUP BY document_id, ordinal HAVING COUNT(*) > 1)", ct).ConfigureAwait(false);
        var dupMappings = await SoakScalarAsync(c, "SELECT COUNT(*) FROM (SELECT passage_id, control_id FROM mappings GROUP BY passage_id, control_id HAVING COUNT(*) > 1)", ct).ConfigureAwait(false);
        var mismatches = await SoakScalarAsync(c, "SELECT COUNT(*) FROM documents d WHERE d.passage_count <> (SELECT COUNT(*) FROM passages p WHERE p.document_id = d.id)", ct).ConfigureAwait(false);
        var fts = await SoakScalarAsync(c, "SELECT COUNT(*) FROM passages_fts", ct).ConfigureAwait(false);
        await using var integrity = c.CreateCommand();
        integrity.CommandText = "PRAGMA integrity_check";
        var check = (string)(await integrity.ExecuteScalarAsync(ct).ConfigureAwait(false))!;
        var once = rows == docs && names == docs && processed == docs && dupPassages == 0 && dupMappings == 0 && mismatches == 0 && fts == passages && check == "ok";
        return new SoakChecks(rows, names, processed, failed, skipped, pages, passages, dupPassages, dupMappings, mismatches, fts, check, once);
    }

    private sealed record SoakLatency(string Endpoint, long Requests, double P50, double P95, double P99, double Max);

    private sealed record SoakReport(
        string Date,
        int Cores,
        string LoadAtStart,
        string LoadAtEnd,
        string Mapper,
        int IngestConcurrency,
        string Source,
        int Documents,
        int Connections,
        double FirstLandedSeconds,
        double AllLandedSeconds,
        double IngestSeconds,
        double DocumentsPerMinute,
        double PagesPerSecond,
        double LoadSeconds,
        long Requests,
        double RequestsPerSecond,
        IReadOnlyList<SoakLatency> Latency,
        long ErrorCount,
        IReadOnlyDictionary<string, long> Errors,
        IReadOnlyList<string> ErrorSamples,
        double PeakVmHwmMb,
        double PeakVmRssMb,
        int MemorySamples,
        SoakChecks Checks,
        bool Passed);

    private static SoakReport SoakReportOf(SoakSettings s, string source, string loadStart, string loadEnd, TimeSpan firstLanded, TimeSpan allLanded, double ingestSeconds, double loadSeconds, SoakLoad load, SoakMemory memory, SoakChecks checks)
    {
        var all = load.Latencies.SelectMany(l => l).ToArray();
        var latency = new List<SoakLatency>();
        foreach (var group in all.GroupBy(l => SoakMix[l.Endpoint]).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            latency.Add(SoakLatencyOf(group.Key, group.Select(g => g.Ms)));
        }

        latency.Add(SoakLatencyOf("all", all.Select(g => g.Ms)));
        var errors = load.Errors;
        var errorCount = errors.Values.Sum();
        return new SoakReport(
            DateTimeOffset.UtcNow.ToString("yyyy-MM-dd HH:mm 'UTC'", Inv),
            Environment.ProcessorCount,
            loadStart,
            loadEnd,
            s.Mapper,
            s.IngestConcurrency > 0 ? s.IngestConcurrency : Environment.ProcessorCount,
            source,
            s.Docs,
            s.Connections,
            Math.Round(firstLanded.TotalSeconds, 2),
            Math.Round(allLanded.TotalSeconds, 2),
            Math.Round(ingestSeconds, 1),
            Math.Round(checks.CurrentVersion1Processed / ingestSeconds * 60, 1),
            Math.Round(checks.Pages / ingestSeconds, 2),
            Math.Round(loadSeconds, 1),
            load.Requests,
            Math.Round(load.Requests / loadSeconds, 1),
            latency,
            errorCount,
            errors,
            load.Samples,
            Math.Round(memory.PeakHwmKb / 1024.0, 1),
            Math.Round(memory.PeakRssKb / 1024.0, 1),
            memory.Samples,
            checks,
            errorCount == 0 && checks.ExactlyOnce && load.Requests > 0);
    }

    private static SoakLatency SoakLatencyOf(string endpoint, IEnumerable<double> values)
    {
        var sorted = values.ToArray();
        Array.Sort(sorted);
        return sorted.Length == 0
            ? new SoakLatency(endpoint, 0, 0, 0, 0, 0)
            : new SoakLatency(endpoint, sorted.Length, Math.Round(Percentile(sorted, 0.50), 1), Math.Round(Percentile(sorted, 0.95), 1), Math.Round(Percentile(sorted, 0.99), 1), Math.Round(sorted[^1], 1));
    }

    private static async Task SoakPrintAsync(TextWriter output, SoakReport r)
    {
        var text = new StringBuilder();
        text.Append(Inv, $"# aims-tools bench soak  {r.Date}  cores={r.Cores}  load(1/5/15) at start={r.LoadAtStart}  at end={r.LoadAtEnd}\n");
        text.Append(Inv, $"documents={r.Documents} ({r.Source})  mapper={r.Mapper}  ingest concurrency={r.IngestConcurrency}  connections={r.Connections}\n");
        text.Append(Inv, $"ingestion: {F(r.IngestSeconds)} s from the first file landing to the last document processed (all landed after {F(r.AllLandedSeconds, 2)} s)  {F(r.DocumentsPerMinute)} documents/min  {F(r.PagesPerSecond, 2)} pages/s  pages={r.Checks.Pages} passages={r.Checks.Passages}\n");
        text.Append(Inv, $"api: {r.Requests} requests in {F(r.LoadSeconds)} s  {F(r.RequestsPerSecond)} req/s\n");
        text.Append("| endpoint | requests | p50 (ms) | p95 (ms) | p99 (ms) | max (ms) |\n| --- | --- | --- | --- | --- | --- |\n");
        foreach (var l in r.Latency)
        {
            text.Append(Inv, $"| {l.Endpoint} | {l.Requests} | {F(l.P50)} | {F(l.P95)} | {F(l.P99)} | {F(l.Max)} |\n");
        }

        text.Append(Inv, $"ERRORS {r.ErrorCount}{(r.Errors.Count == 0 ? string.Empty : " (" + string.Join(", ", r.Errors.Select(e => $"{e.Key}={e.Value}")) + ")")}\n");
        foreach (var sample in r.ErrorSamples)
        {
            text.Append("  ").Append(sample).Append('\n');
        }

        text.Append(Inv, $"server peak memory: VmHWM {F(r.PeakVmHwmMb, 0)} MB (sampled max VmRSS {F(r.PeakVmRssMb, 0)} MB, {r.MemorySamples} samples)\n");
        var c = r.Checks;
        text.Append(Inv, $"checks: rows={c.Rows} distinct names={c.DistinctNames} current v1 processed={c.CurrentVersion1Processed} failed={c.Failed} skipped={c.Skipped} duplicate passages={c.DuplicatePassages} duplicate mappings={c.DuplicateMappings} passage_count mismatches={c.PassageCountMismatches} fts rows={c.FtsRows}/{c.Passages} integrity_check={c.IntegrityCheck}\n");
        text.Append(Inv, $"exactly once: {(c.ExactlyOnce ? "yes" : "NO")}  RESULT {(r.Passed ? "PASS" : "FAIL")}\n");
        await output.WriteAsync(text.ToString()).ConfigureAwait(false);
    }
}
