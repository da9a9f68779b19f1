using System.Diagnostics;
using Aims.Evidence.Azure.Tests.Infrastructure;

namespace Aims.Evidence.Azure.Tests;

/// <summary>Compiles and lints infra/main.bicep with the Bicep CLI that restore downloads from NuGet.</summary>
[Trait(Tiers.Name, Tiers.Slow)]
public sealed class BicepTests
{
    private static string BicepPath()
    {
        var packages = Environment.GetEnvironmentVariable("NUGET_PACKAGES");
        if (string.IsNullOrEmpty(packages))
        {
            packages = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        }

        var path = Path.Combine(packages, "azure.bicep.commandline.linux-x64", "0.49.2", "tools", "bicep");
        if (!OperatingSystem.IsLinux() || !File.Exists(path))
        {
            Assert.Skip($"Bicep CLI not found at {path} (restore the test project on linux-x64).");
        }

        return path;
    }

    private static async Task<(int ExitCode, string Output)> RunAsync(params string[] args)
    {
        var start = new ProcessStartInfo(BicepPath())
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = TestPaths.RepoRoot,
        };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment["BICEP_TRACING_ENABLED"] = "false";
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, (await stdout) + (await stderr));
    }

    [Fact]
    public async Task Main_bicep_builds_with_no_diagnostics()
    {
        var output = Path.Combine(Path.GetTempPath(), $"aims-main-{Guid.NewGuid():N}.json");
        var (code, text) = await RunAsync("build", Path.Combine("infra", "main.bicep"), "--outfile", output);
        try
        {
            Assert.True(code == 0, text);
            Assert.DoesNotContain("Warning", text, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain("Error", text, StringComparison.OrdinalIgnoreCase);
            Assert.Contains("Microsoft.Web/sites", File.ReadAllText(output), StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(output);
        }
    }

    [Fact]
    public async Task Main_bicep_lints_with_no_diagnostics()
    {
        var (code, text) = await RunAsync("lint", Path.Combine("infra", "main.bicep"));
        Assert.True(code == 0, text);
        Assert.True(string.IsNullOrWhiteSpace(text), text);
    }
}
