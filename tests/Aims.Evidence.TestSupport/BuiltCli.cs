using System.Diagnostics;

namespace Aims.Evidence.TestSupport;

/// <summary>What a finished child process wrote and returned.</summary>
public sealed record ChildRun(int Code, string Out, string Err);

/// <summary>The built command-line programs that process tests run as children (<c>dotnet aims.dll ...</c>).</summary>
public static class BuiltCli
{
    /// <summary>src/Aims.Evidence.Cli's <c>aims.dll</c> in the tests' configuration, or null when it is not built.</summary>
    public static string? AimsDll
    {
        get
        {
            var dll = Path.Combine(TestPaths.BuildOutput("Aims.Evidence.Cli"), "aims.dll");
            return File.Exists(dll) ? dll : null;
        }
    }

    /// <summary><see cref="AimsDll"/>; skips the calling test with a clear message when it is not built.</summary>
    public static string RequireAimsDll()
    {
        var dll = AimsDll;
        if (dll is null)
        {
            Assert.Skip("src/Aims.Evidence.Cli/bin/<Configuration>/net10.0/aims.dll is not built (dotnet build first); the process test is skipped.");
        }

        return dll;
    }

    /// <summary>
    /// Starts <c>dotnet dll args</c> as a long-running child (e.g. <c>aims serve</c>) without waiting for it; every line
    /// it writes to stdout or stderr goes to <paramref name="onLine"/> (called from the reader threads). The caller
    /// kills and disposes it.
    /// </summary>
    public static Process Start(string dll, IEnumerable<string> args, Action<string> onLine)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(onLine);
        var info = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(dll);
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        var process = Process.Start(info) ?? throw new InvalidOperationException($"dotnet {dll} did not start");
        process.OutputDataReceived += (_, e) => Forward(e.Data);
        process.ErrorDataReceived += (_, e) => Forward(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;

        void Forward(string? line)
        {
            if (line is not null)
            {
                onLine(line);
            }
        }
    }

    /// <summary>
    /// Runs <c>dotnet aims.dll args</c> (the built CLI; the test is skipped when it is not built) and waits for it;
    /// <paramref name="prefix"/> wraps the command (e.g. setpriv), <paramref name="environment"/> sets (or, with null,
    /// removes) variables. A run longer than 120 s is killed and fails the test: that proves "does not hang", not speed.
    /// </summary>
    public static async Task<ChildRun> RunAimsAsync(
        IEnumerable<string> args,
        string? workingDirectory = null,
        IEnumerable<string>? prefix = null,
        IReadOnlyDictionary<string, string?>? environment = null)
    {
        var ct = TestContext.Current.CancellationToken;
        var dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet";
        var arguments = args.ToList();
        var command = (prefix ?? []).Concat([dotnet, RequireAimsDll()]).Concat(arguments).ToList();
        var info = new ProcessStartInfo(command[0])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (workingDirectory is not null)
        {
            info.WorkingDirectory = workingDirectory;
        }

        foreach (var arg in command.Skip(1))
        {
            info.ArgumentList.Add(arg);
        }

        foreach (var (name, value) in environment ?? new Dictionary<string, string?>())
        {
            if (value is null)
            {
                info.Environment.Remove(name);
            }
            else
            {
                info.Environment[name] = value;
            }
        }

        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync(ct);
        var stderr = process.StandardError.ReadToEndAsync(ct);
        using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct))
        {
            timeout.CancelAfter(TimeSpan.FromSeconds(120));
            try
            {
                await process.WaitForExitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                Assert.Fail($"aims {string.Join(' ', arguments)} did not finish in 120 s");
            }
        }

        var run = new ChildRun(process.ExitCode, await stdout, await stderr);
        TestContext.Current.TestOutputHelper?.WriteLine($"aims {string.Join(' ', arguments)}: exit {run.Code}\nstdout: {run.Out}\nstderr: {run.Err}");
        return run;
    }

    /// <summary><c>aims-tools.dll</c> copied next to the test binaries by a project reference to the tools project.</summary>
    public static string ToolsDllBesideTests => Path.Combine(AppContext.BaseDirectory, "aims-tools.dll");

    /// <summary><c>aims.dll</c> copied next to the test binaries by a project reference.</summary>
    public static string AimsDllBesideTests => Path.Combine(AppContext.BaseDirectory, "aims.dll");
}
