using System.Diagnostics;
using System.Text.Json;
using Aims.Evidence.Core.Pipeline;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Aims.Evidence.Api.Tests;

[CollectionDefinition(nameof(SoakGroup), DisableParallelization = true)]
public sealed class SoakGroup;

/// <summary>Load and soak: `aims bench soak` end to end at a small size, and the inbox watcher's bounded parallelism.</summary>
[Collection(nameof(SoakGroup))]
public sealed class SoakTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static string? AimsDll()
    {
        var configuration = AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}", StringComparison.Ordinal) ? "Release" : "Debug";
        var dll = Path.Combine(ApiFixture.RepoRoot(), "src", "Aims.Evidence.Cli", "bin", configuration, "net10.0", "aims.dll");
        return File.Exists(dll) ? dll : null;
    }

    [Fact]
    public async Task Bench_soak_ingests_every_document_exactly_once_under_load_with_zero_errors()
    {
        var dll = AimsDll();
        if (dll is null)
        {
            Assert.Skip("src/Aims.Evidence.Cli/bin/<Configuration>/net10.0/aims.dll is not built (dotnet build first); the soak test is skipped.");
        }

        var info = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[] { dll, "bench", "soak", "--docs", "20", "--connections", "8", "--mapper", "lexical", "--generated", "--timeout-minutes", "2", "--json" })
        {
            info.ArgumentList.Add(arg);
        }

        using var process = Process.Start(info)!;
        var stderr = process.StandardError.ReadToEndAsync(Ct);
        var stdout = await process.StandardOutput.ReadToEndAsync(Ct);
        await process.WaitForExitAsync(Ct);
        var diagnostics = await stderr;
        Assert.True(process.ExitCode == 0, $"exit {process.ExitCode}\n{stdout}\n{diagnostics}");

        using var json = JsonDocument.Parse(stdout);
        var r = json.RootElement;
        Assert.True(r.GetProperty("passed").GetBoolean(), stdout);
        Assert.Equal(0, r.GetProperty("errorCount").GetInt64());
        Assert.Empty(r.GetProperty("errors").EnumerateObject());
        Assert.Equal(20, r.GetProperty("documents").GetInt32());

        // Every endpoint of the mix was really called, and the clients ran while the documents were ingested.
        var endpoints = r.GetProperty("latency").EnumerateArray().ToDictionary(l => l.GetProperty("endpoint").GetString()!, l => l.GetProperty("requests").GetInt64());
        foreach (var e in new[] { "coverage", "gaps", "documents", "search", "control", "soa", "all" })
        {
            Assert.True(endpoints.GetValueOrDefault(e) > 0, $"no {e} requests: {stdout}");
        }

        Assert.Equal(r.GetProperty("requests").GetInt64(), endpoints["all"]);
        Assert.True(r.GetProperty("peakVmHwmMb").GetDouble() > 10, stdout);

        // Exactly once, nothing duplicated, a sound database.
        var c = r.GetProperty("checks");
        Assert.True(c.GetProperty("exactlyOnce").GetBoolean(), stdout);
        Assert.Equal(20, c.GetProperty("rows").GetInt64());
        Assert.Equal(20, c.GetProperty("currentVersion1Processed").GetInt64());
        Assert.Equal(0, c.GetProperty("duplicatePassages").GetInt64());
        Assert.Equal(0, c.GetProperty("duplicateMappings").GetInt64());
        Assert.Equal(c.GetProperty("passages").GetInt64(), c.GetProperty("ftsRows").GetInt64());
        Assert.Equal("ok", c.GetProperty("integrityCheck").GetString());
        TestContext.Current.SendDiagnosticMessage($"soak 20 docs / 8 connections: {r.GetProperty("requests")} requests, {r.GetProperty("ingestSeconds")} s ingest");
    }

    /// <summary>Records how many ingestions run at once, overall and per name; each takes a while so they overlap.</summary>
    private sealed class ConcurrencyProbe : IDocumentIngestor
    {
        private readonly Dictionary<string, int> _perName = new(StringComparer.Ordinal);
        private int _current;

        public int MaxConcurrent { get; private set; }

        public int MaxSameName { get; private set; }

        private readonly List<string> _names = [];

        public string[] Handled()
        {
            lock (_perName)
            {
                return [.. _names];
            }
        }

        public async Task<IngestOutcome> IngestAsync(string name, ReadOnlyMemory<byte> content, CancellationToken cancellationToken = default)
        {
            lock (_perName)
            {
                _current++;
                MaxConcurrent = Math.Max(MaxConcurrent, _current);
                _perName[name] = _perName.GetValueOrDefault(name) + 1;
                MaxSameName = Math.Max(MaxSameName, _perName[name]);
            }

            await Task.Delay(400, cancellationToken);
            lock (_perName)
            {
                _current--;
                _perName[name]--;
                _names.Add(name);
            }

            return new IngestOutcome(name, IngestStatus.Processed, null, null);
        }
    }

    [Fact]
    public async Task Inbox_watcher_ingests_in_parallel_up_to_the_bound_and_never_one_path_twice_at_once()
    {
        var inbox = Path.Combine(Path.GetTempPath(), "aims-soak-inbox-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(inbox);
        var probe = new ConcurrencyProbe();
        using var services = new ServiceCollection().AddSingleton<IDocumentIngestor>(probe).BuildServiceProvider();
        using var watcher = new InboxIngestionService(
            // Settle 0: each file is handled as soon as it lands, so doc-00.md is rewritten while it is in flight.
            Options.Create(new AimsApiOptions { InboxPath = inbox, WatchInbox = true, IngestConcurrency = 3, InboxSettleMilliseconds = 0 }),
            services,
            NullLogger<InboxIngestionService>.Instance);
        try
        {
            await watcher.StartAsync(Ct);
            for (var i = 0; i < 12; i++)
            {
                var temp = Path.Combine(inbox, $".doc-{i:D2}.md.part");
                await File.WriteAllTextAsync(temp, $"document {i}", Ct);
                File.Move(temp, Path.Combine(inbox, $"doc-{i:D2}.md"));
            }

            // The same file rewritten while it is being handled: handled again afterwards, never concurrently.
            await Task.Delay(500, Ct);
            await File.AppendAllTextAsync(Path.Combine(inbox, "doc-00.md"), " changed", Ct);

            var deadline = DateTime.UtcNow.AddSeconds(30);
            while (DateTime.UtcNow < deadline && probe.Handled().Distinct(StringComparer.Ordinal).Count() < 12)
            {
                await Task.Delay(100, Ct);
            }

            await Task.Delay(1500, Ct); // room for a re-handling of doc-00.md
            var names = probe.Handled();
            Assert.Equal(12, names.Distinct(StringComparer.Ordinal).Count());
            Assert.Equal(3, probe.MaxConcurrent);
            Assert.Equal(1, probe.MaxSameName);
            Assert.Contains("doc-00.md", names);
        }
        finally
        {
            await watcher.StopAsync(CancellationToken.None);
            Directory.Delete(inbox, recursive: true);
        }
    }
}
