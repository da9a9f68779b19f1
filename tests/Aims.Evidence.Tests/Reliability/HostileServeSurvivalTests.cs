using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Aims.Evidence.Core.Pipeline;
using Aims.Evidence.Tools;
using Microsoft.Data.Sqlite;

namespace Aims.Evidence.Tests.Reliability;

/// <summary>
/// The process-level guarantee of the hostile-input suite: the built <c>aims serve</c> (a child process, lexical
/// mapper) is given every input <see cref="HostileInputs"/> generates in its inbox at once. Each gets a terminal status
/// of the expected kind; the server stays up, or, should an input kill it, it is restarted (at most as often as the
/// crash-loop guard needs) and the input is recorded failed by the guard; then <c>/health</c> answers 200 and a good
/// document dropped afterwards is processed.
/// </summary>
[Trait(Tiers.Name, Tiers.Slow)]
public sealed class HostileServeSurvivalTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "aims-survival-" + Guid.NewGuid().ToString("N")[..12]);
    private readonly List<string> _log = [];

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private string Inbox => Path.Combine(_dir, "inbox");

    private string Db => Path.Combine(_dir, "aims.db");

    public void Dispose()
    {
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    [Fact]
    public async Task Serve_survives_every_generated_hostile_input_in_its_inbox_and_processes_a_good_document_afterwards()
    {
        var dll = BuiltCli.RequireAimsDll();
        var staging = Path.Combine(_dir, "staging");
        Directory.CreateDirectory(staging);
        Directory.CreateDirectory(Inbox);

        // Every class, the memory ones smaller than in the benchmark but the office XML still past the default cap.
        var inputs = HostileInputs.All(new HostileInputs.Sizes { RunBytes = 4 * 1024 * 1024, XmlBytes = 41 * 1024 * 1024, XmlUnderCapBytes = 2 * 1024 * 1024, UnderTextCapBytes = 3 * 1024 * 1024, UnderPassageCap = 400, ManyRows = 6_000 });
        var staged = inputs.Select(i => (Input: i, Path: i.WriteTo(staging))).ToList();

        var port = FreePort.Next();
        var server = Start(dll, port);
        var restarts = 0;
        try
        {
            await WaitHealthyAsync(server, port);
            foreach (var (input, path) in staged)
            {
                File.Move(path, Path.Combine(Inbox, input.Name));
            }

            // Terminal statuses for all; a server that died is restarted (the guard fails the killer at the second restart).
            var clock = Stopwatch.StartNew();
            Dictionary<string, (string Status, string? Reason)> statuses;
            while (true)
            {
                statuses = await CurrentStatusesAsync();
                if (inputs.All(i => statuses.ContainsKey(i.Name)))
                {
                    break;
                }

                if (server.HasExited)
                {
                    restarts++;
                    Assert.True(restarts <= IngestionPipeline.MaxUnfinishedAttempts, $"aims serve exited {restarts} times (last {server.ExitCode}): {Tail()}");
                    server.Dispose();
                    server = Start(dll, port);
                    await WaitHealthyAsync(server, port);
                }

                Assert.True(clock.Elapsed < TimeSpan.FromMinutes(8), $"no terminal status after {clock.Elapsed} for: {string.Join(", ", inputs.Where(i => !statuses.ContainsKey(i.Name)).Select(i => i.Name))}; {Tail()}");
                await Task.Delay(500, Ct);
            }

            var report = string.Join(Environment.NewLine, inputs.Select(i => $"{i.Name}: {statuses[i.Name].Status} ({statuses[i.Name].Reason}); expected {i.Expected}"));
            TestContext.Current.TestOutputHelper?.WriteLine($"OBSERVED restarts {restarts}{Environment.NewLine}{report}");
            var killedBy = statuses.Where(s => s.Value.Reason?.Contains("stopped the process", StringComparison.Ordinal) == true).Select(s => s.Key).ToArray();
            if (restarts == 0)
            {
                Assert.Empty(killedBy);
                foreach (var input in inputs)
                {
                    // The expected outcome starts with the status word: processed, failed or skipped.
                    Assert.True(input.Expected.StartsWith(statuses[input.Name].Status, StringComparison.Ordinal), report);
                }
            }
            else
            {
                Assert.NotEmpty(killedBy); // recorded failed by the crash-loop guard, not retried for ever
            }

            Assert.False(server.HasExited, $"aims serve exited: {Tail()}");
            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
            Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/api/v1/health", Ct)).StatusCode);

            await File.WriteAllTextAsync(Path.Combine(staging, "good-after.md"), "# Risk treatment\n\nEvery AI risk has an owner who approves its treatment plan before deployment.\n", Ct);
            File.Move(Path.Combine(staging, "good-after.md"), Path.Combine(Inbox, "good-after.md"));
            var wait = Stopwatch.StartNew();
            while (!(await CurrentStatusesAsync()).TryGetValue("good-after.md", out var good) || good.Status != "processed")
            {
                Assert.True(wait.Elapsed < TimeSpan.FromSeconds(90) && !server.HasExited, $"the good document was not processed: {Tail()}");
                await Task.Delay(300, Ct);
            }

            Assert.False(server.HasExited);
            Assert.DoesNotContain(_log, l => l.Contains("Unhandled exception", StringComparison.Ordinal) || l.Contains("crit:", StringComparison.Ordinal));
        }
        finally
        {
            if (!server.HasExited)
            {
                server.Kill(entireProcessTree: true);
                await server.WaitForExitAsync(CancellationToken.None);
            }

            server.Dispose();
        }
    }

    private Process Start(string dll, int port) =>
        BuiltCli.Start(dll, ["serve", "--db", Db, "--inbox", Inbox, "--urls", $"http://127.0.0.1:{port}", "--mapper", "lexical"], Log);

    private void Log(string line)
    {
        lock (_log)
        {
            _log.Add(line);
        }
    }

    private string Tail()
    {
        lock (_log)
        {
            return string.Join(" | ", _log.TakeLast(15));
        }
    }

    private async Task WaitHealthyAsync(Process server, int port)
    {
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(5) };
        var clock = Stopwatch.StartNew();
        while (true)
        {
            Assert.False(server.HasExited, $"aims serve exited with {(server.HasExited ? server.ExitCode : 0)}: {Tail()}");
            try
            {
                if ((await http.GetAsync("/api/v1/health", Ct)).IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // not listening yet
            }
            catch (TaskCanceledException) when (!Ct.IsCancellationRequested)
            {
                // busy
            }

            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(120), $"no /health within 120 s: {Tail()}");
            await Task.Delay(200, Ct);
        }
    }

    /// <summary>The current version's status and reason per document name, read from the database the server writes.</summary>
    private async Task<Dictionary<string, (string Status, string? Reason)>> CurrentStatusesAsync()
    {
        var result = new Dictionary<string, (string, string?)>(StringComparer.Ordinal);
        if (!File.Exists(Db))
        {
            return result;
        }

        try
        {
            await using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = Db, Mode = SqliteOpenMode.ReadOnly, Pooling = false, DefaultTimeout = 5 }.ToString());
            await connection.OpenAsync(Ct);
            await using var cmd = connection.CreateCommand();
            cmd.CommandText = "SELECT name, status, reason FROM documents WHERE is_current = 1";
            await using var reader = await cmd.ExecuteReaderAsync(Ct);
            while (await reader.ReadAsync(Ct))
            {
                result[reader.GetString(0)] = (reader.GetString(1), reader.IsDBNull(2) ? null : reader.GetString(2));
            }
        }
        catch (SqliteException)
        {
            // the schema is not there yet, or a writer holds the lock for a moment
        }

        return result;
    }
}
