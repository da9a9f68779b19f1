using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using Aims.Evidence.Cli;

namespace Aims.Evidence.Tools;

/// <summary>
/// `aims-tools bench hostile`: generates every class of <see cref="HostileInputs"/> at full size and runs the real
/// `aims ingest` on each as a child process (a fresh database each), printing the child's peak resident memory
/// (VmHWM from /proc, read every 10 ms until it exits), its exit code and the recorded outcome, with the machine load.
/// </summary>
public static partial class AimsTools
{
    private static Command HostileCommand(TextWriter output, TextWriter error)
    {
        var aims = new Option<string>("--aims")
        {
            Description = "The aims executable: aims.dll (run with dotnet) or the aims apphost. Default: the aims.dll built next to aims-tools.",
            DefaultValueFactory = _ => Path.Combine(AppContext.BaseDirectory, "aims.dll"),
        };
        var mapper = new Option<string>("--mapper") { Description = "Mapper of `aims ingest`: trained (its default), hybrid or lexical.", DefaultValueFactory = _ => "trained" };
        mapper.AcceptOnlyFromAmong("trained", "hybrid", "lexical");
        var only = new Option<string?>("--only") { Description = "Only inputs whose name contains this text." };
        var limitMb = new Option<int>("--limit-mb") { Description = "Peak resident memory every input must stay under (MB); the exit code is 1 otherwise.", DefaultValueFactory = _ => 1536 };
        var command = new Command("hostile", "Peak resident memory (VmHWM) of `aims ingest` on every generated hostile input, one child process each.") { aims, mapper, only, limitMb };
        command.SetAction(async (parse, ct) => await BenchHostileAsync(
            output, error, parse.GetValue(aims)!, parse.GetValue(mapper)!, parse.GetValue(only), parse.GetValue(limitMb), ct).ConfigureAwait(false));
        return command;
    }

    private static async Task<int> BenchHostileAsync(TextWriter output, TextWriter error, string aims, string mapper, string? only, int limitMb, CancellationToken ct)
    {
        aims = Path.GetFullPath(aims);
        if (!File.Exists(aims))
        {
            throw new UsageException($"no aims executable at {aims} (build src/Aims.Evidence.Cli or pass --aims PATH)");
        }

        var dir = Path.Combine(Path.GetTempPath(), "aims-hostile-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(dir);
        try
        {
            await Header(output, $"hostile  mapper={mapper}  limit={limitMb} MB").ConfigureAwait(false);
            var cases = new List<(string Name, string Class, string Expected, Func<string> Path)>();
            foreach (var input in HostileInputs.All())
            {
                cases.Add((input.Name, input.Class, input.Expected, () => input.WriteTo(dir)));
            }

            // Named on the command line: a character device that never ends, and a sparse file over the size cap.
            cases.Add(("/dev/zero", "character device named on the command line", "skipped: not a regular file", () => "/dev/zero"));
            cases.Add(("oversize.txt", "file over the 100 MB size cap (sparse)", "failed: above the size limit, streamed", () =>
            {
                var path = Path.Combine(dir, "oversize.txt");
                using var file = File.Create(path);
                file.SetLength(101L * 1024 * 1024);
                return path;
            }));

            await output.WriteLineAsync("| Input | Class | Size | Outcome | Reason | Exit | Seconds | VmHWM (MB) |").ConfigureAwait(false);
            await output.WriteLineAsync("| --- | --- | --- | --- | --- | --- | --- | --- |").ConfigureAwait(false);
            var failures = 0;
            foreach (var (name, kind, expected, make) in cases)
            {
                if (only is not null && !name.Contains(only, StringComparison.OrdinalIgnoreCase))
                {
                    continue;
                }

                var path = make();
                var size = path.StartsWith("/dev/", StringComparison.Ordinal) ? "-" : $"{new FileInfo(path).Length / 1024.0 / 1024.0:F1} MB".Replace(',', '.');
                var db = TempDb("hostile");
                try
                {
                    var run = await RunIngestChildAsync(aims, path, db, mapper, ct).ConfigureAwait(false);
                    var ok = run.PeakMb < limitMb && run.ExitCode is 0 or 3 && run.Outcome is not null;
                    failures += ok ? 0 : 1;
                    var reason = run.Reason is { Length: > 90 } r ? r[..90] + "…" : run.Reason ?? "";
                    await output.WriteLineAsync(
                        $"| `{name}` | {kind} | {size} | {run.Outcome ?? "none"}{(run.Passages is { } p ? $", {p} passages" : "")} | {reason.Replace("|", "\\|", StringComparison.Ordinal)} | {run.ExitCode} | {F(run.Seconds)} | {F(run.PeakMb, 0)}{(ok ? "" : " **FAIL**")} |").ConfigureAwait(false);
                    if (!ok)
                    {
                        await error.WriteLineAsync($"hostile: {name} (expected {expected}): exit {run.ExitCode}, VmHWM {F(run.PeakMb, 0)} MB; stderr: {run.Stderr}").ConfigureAwait(false);
                    }
                }
                finally
                {
                    DeleteDb(db);
                    if (path.StartsWith(dir, StringComparison.Ordinal))
                    {
                        File.Delete(path);
                    }
                }
            }

            await output.WriteLineAsync($"load(1/5/15) at end={Load()}  RESULT {(failures == 0 ? "PASS" : $"FAIL ({failures})")}").ConfigureAwait(false);
            return failures == 0 ? 0 : 1;
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private sealed record IngestRun(int ExitCode, double Seconds, double PeakMb, string? Outcome, string? Reason, int? Passages, string Stderr);

    private static async Task<IngestRun> RunIngestChildAsync(string aims, string path, string db, string mapper, CancellationToken ct)
    {
        ProcessStartInfo info;
        if (aims.EndsWith(".dll", StringComparison.OrdinalIgnoreCase))
        {
            info = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet");
            info.ArgumentList.Add(aims);
        }
        else
        {
            info = new ProcessStartInfo(aims);
        }

        foreach (var arg in new[] { "ingest", path, "--db", db, "--mapper", mapper, "--json" })
        {
            info.ArgumentList.Add(arg);
        }

        info.UseShellExecute = false;
        info.RedirectStandardOutput = true;
        info.RedirectStandardError = true;
        var clock = Stopwatch.StartNew();
        using var process = Process.Start(info) ?? throw new InvalidOperationException("could not start aims ingest");
        var stdout = process.StandardOutput.ReadToEndAsync(ct);
        var stderr = process.StandardError.ReadToEndAsync(ct);
        long peakKb = 0;
        while (!process.HasExited)
        {
            peakKb = Math.Max(peakKb, ReadHwmKb(process.Id));
            await Task.Delay(10, ct).ConfigureAwait(false);
        }

        await process.WaitForExitAsync(ct).ConfigureAwait(false);
        var seconds = clock.Elapsed.TotalSeconds;
        string? outcome = null, reason = null;
        int? passages = null;
        try
        {
            using var json = JsonDocument.Parse(await stdout.ConfigureAwait(false));
            foreach (var doc in json.RootElement.GetProperty("documents").EnumerateArray())
            {
                outcome = doc.GetProperty("outcome").ToString().ToLowerInvariant();
                reason = doc.GetProperty("reason").ValueKind == JsonValueKind.String ? doc.GetProperty("reason").GetString() : null;
                passages = doc.GetProperty("passages").ValueKind == JsonValueKind.Number ? doc.GetProperty("passages").GetInt32() : null;
            }
        }
        catch (JsonException)
        {
            // no JSON: the child failed before printing (the row says "none")
        }

        var err = (await stderr.ConfigureAwait(false)).Trim();
        return new IngestRun(process.ExitCode, seconds, peakKb / 1024.0, outcome, reason, passages, err.Length > 400 ? err[..400] : err);
    }

    /// <summary>VmHWM (the kernel's resident high-water mark) of a live process, in KB; 0 once it is gone.</summary>
    private static long ReadHwmKb(int pid)
    {
        try
        {
            foreach (var line in File.ReadLines($"/proc/{pid}/status"))
            {
                if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                {
                    return long.Parse(line.AsSpan(6).Trim().TrimEnd("kB").Trim(), Inv);
                }
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // exited between the check and the read
        }

        return 0;
    }
}
