using System.Diagnostics;
using System.Text.Json;

namespace Aims.Evidence.Tools.Tests;

[CollectionDefinition(nameof(SoakGroup), DisableParallelization = true)]
public sealed class SoakGroup;

/// <summary>Load and soak: `aims-tools bench soak` end to end at a small size, against a real `aims serve` child.</summary>
[Collection(nameof(SoakGroup))]
[Trait(Tiers.Name, Tiers.Slow)]
public sealed class SoakTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Bench_soak_ingests_every_document_exactly_once_under_load_with_zero_errors()
    {
        // Both are built next to the tests (project references): the soak serves with that aims.dll by default.
        var dll = BuiltCli.ToolsDllBesideTests;
        Assert.True(File.Exists(dll), dll);
        Assert.True(File.Exists(BuiltCli.AimsDllBesideTests), "aims.dll next to aims-tools.dll");

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
}
