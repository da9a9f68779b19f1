using System.CommandLine;
using System.Text.Json;
using Aims.Evidence.Core.Pipeline;
using Aims.Evidence.Core.Storage;
using Aims.Evidence.Local;
using Spectre.Console;

namespace Aims.Evidence.Cli;

public static partial class AimsCli
{
    private static Command IngestCommand(TextWriter output, TextWriter error)
    {
        var paths = new Argument<string[]>("paths") { Description = "Files and folders (recursive) to ingest.", Arity = ArgumentArity.OneOrMore };
        var json = JsonOption();
        var mapper = MapperOption();
        var command = new Command("ingest", "Ingest documents: extract, segment, classify, map to ISO/IEC 42001, store.")
        {
            paths, json, mapper, LlmProviderOption, LlmEndpointOption, LlmModelOption, LlmApiKeyOption, LlmTokenBudgetOption, LlmRedactOption,
        };
        command.SetAction(async (parse, ct) =>
        {
            var inputs = parse.GetValue(paths) ?? [];
            var unreadable = new List<(string Name, string Reason)>();
            var files = EnumerateInputs(inputs, unreadable);
            var settings = LoadSettings(parse, mapper);
            var llm = settings.Llm;
            using var aims = await OpenDatabaseAsync(parse, settings, mustExist: false, ct).ConfigureAwait(false);
            var outcomes = await IngestFilesAsync(aims, files, output, parse.GetValue(json), ct).ConfigureAwait(false);
            var runs = llm.Enabled ? await aims.Store.ListRunsAsync(1, ct).ConfigureAwait(false) : [];
            var usage = runs.Count > 0 ? await aims.Store.GetLlmUsageAsync(runs[0].Id, ct).ConfigureAwait(false) : null;
            if (parse.GetValue(json))
            {
                await output.WriteLineAsync(JsonSerializer.Serialize(new { documents = outcomes.Select(OutcomeJson), unreadable = unreadable.Select(u => new { name = u.Name, reason = u.Reason }), llm = usage is null ? null : LlmJson(usage) }, Json)).ConfigureAwait(false);
            }
            else
            {
                PrintOutcomes(Console(output), outcomes);
                if (usage is not null)
                {
                    await output.WriteLineAsync(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"LLM ({llm.Model}): {usage.Calls} calls, {usage.PromptTokens} prompt + {usage.CompletionTokens} completion tokens, {usage.CacheHits} cached passages, {usage.Fallbacks} fallbacks, {usage.RejectedIds} rejected ids, {usage.Redactions} identifiers redacted.")).ConfigureAwait(false);
                }
            }

            var failed = outcomes.Where(o => o.Status == IngestStatus.Failed).ToArray();
            foreach (var f in failed)
            {
                await error.WriteLineAsync(OneLine($"failed: {f.Name}: {f.Reason}")).ConfigureAwait(false);
            }

            // A folder that could not be read hides documents that were not ingested: a failure too, one line each.
            foreach (var u in unreadable)
            {
                await error.WriteLineAsync(OneLine($"unreadable folder: {u.Name}: {u.Reason}")).ConfigureAwait(false);
            }

            if (failed.Length > 0 || unreadable.Count > 0)
            {
                return ExitCodes.DocumentsFailed;
            }

            return ExitCodes.Ok;
        });
        return command;
    }

    /// <summary>
    /// Expands files and folders into (name, path) pairs. A folder's files are named by their path relative to it; its
    /// symbolic links, FIFOs, sockets and devices are listed too (ingestion records them as skipped without opening
    /// them) and links to folders are not followed. A file named on the command line is the user's choice: a symbolic
    /// link there is followed to its target, as cp and tar do. A subfolder that cannot be read is added to
    /// <paramref name="unreadable"/> (named relative to its folder, with the reason).
    /// </summary>
    internal static IReadOnlyList<(string Name, string Path)> EnumerateInputs(IEnumerable<string> inputs, List<(string Name, string Reason)>? unreadable = null)
    {
        var result = new List<(string, string)>();
        foreach (var input in inputs)
        {
            if (File.Exists(input))
            {
                var full = System.IO.Path.GetFullPath(input);
                result.Add((System.IO.Path.GetFileName(input), File.ResolveLinkTarget(full, returnFinalTarget: true)?.FullName ?? full));
            }
            else if (Directory.Exists(input))
            {
                var root = System.IO.Path.GetFullPath(input);
                var folder = input;
                foreach (var file in SpecialFiles.EnumerateFolder(root, skipHidden: true, (path, reason) => unreadable?.Add((Unreadable(folder, root, path), reason))).Order(StringComparer.Ordinal))
                {
                    result.Add((System.IO.Path.GetRelativePath(root, file).Replace('\\', '/'), file));
                }
            }
            else
            {
                throw new UsageException($"no such file or folder: {input}");
            }
        }

        return result;
    }

    /// <summary>An unreadable folder's name: relative to the folder named on the command line, with a trailing slash.</summary>
    private static string Unreadable(string input, string root, string path)
    {
        var relative = System.IO.Path.GetRelativePath(root, path).Replace('\\', '/');
        return relative == "." ? input.TrimEnd('/') + "/" : relative + "/";
    }

    internal static async Task<IReadOnlyList<IngestOutcome>> IngestFilesAsync(LocalAims aims, IReadOnlyList<(string Name, string Path)> files, TextWriter output, bool quiet, CancellationToken ct)
    {
        var run = new RunRecord { Id = Guid.CreateVersion7().ToString("N"), StartedAt = DateTimeOffset.UtcNow };
        await aims.Store.SaveRunAsync(run, ct).ConfigureAwait(false);
        var pipeline = aims.CreatePipeline(run.Id);
        var outcomes = new List<IngestOutcome>(files.Count);

        async Task IngestOne((string Name, string Path) file)
        {
            IngestOutcome outcome;
            try
            {
                outcome = await pipeline.IngestFileAsync(file.Name, file.Path, ct).ConfigureAwait(false);
            }
            catch (IOException ex)
            {
                outcome = new IngestOutcome(file.Name, IngestStatus.Failed, null, "could not read the file: " + ex.Message);
            }
            catch (UnauthorizedAccessException ex)
            {
                outcome = new IngestOutcome(file.Name, IngestStatus.Failed, null, "could not read the file: " + ex.Message);
            }

            outcomes.Add(outcome);
        }

        var console = Console(output);
        if (!quiet && console.Profile.Capabilities.Interactive)
        {
            await console.Progress().StartAsync(async ctx =>
            {
                var task = ctx.AddTask("Ingesting", maxValue: Math.Max(1, files.Count));
                foreach (var file in files)
                {
                    task.Description = Markup.Escape(file.Name.Length > 40 ? "…" + file.Name[^39..] : file.Name);
                    await IngestOne(file).ConfigureAwait(false);
                    task.Increment(1);
                }
            }).ConfigureAwait(false);
        }
        else
        {
            foreach (var file in files)
            {
                await IngestOne(file).ConfigureAwait(false);
            }
        }

        await aims.Store.SaveRunAsync(
            run with
            {
                FinishedAt = DateTimeOffset.UtcNow,
                Processed = outcomes.Count(o => o.Status == IngestStatus.Processed),
                Failed = outcomes.Count(o => o.Status == IngestStatus.Failed),
                Skipped = outcomes.Count(o => o.Status == IngestStatus.Skipped),
                Unchanged = outcomes.Count(o => o.Status == IngestStatus.Unchanged),
            },
            ct).ConfigureAwait(false);
        return outcomes;
    }

    private static object OutcomeJson(IngestOutcome o) => new
    {
        name = o.Name,
        outcome = o.Status,
        reason = o.Reason,
        id = o.Document?.Id,
        docType = o.Document?.DocType,
        docTypeConfidence = o.Document?.DocTypeConfidence,
        version = o.Document?.Version,
        passages = o.Document?.PassageCount,
        pages = o.Document?.PageCount,
        elapsedMs = (int)o.Elapsed.TotalMilliseconds,
    };

    private static void PrintOutcomes(IAnsiConsole console, IReadOnlyList<IngestOutcome> outcomes)
    {
        var table = new Table().AddColumns("Document", "Outcome", "Type", "Pages", "Passages", "Reason");
        foreach (var o in outcomes)
        {
            var colour = o.Status switch
            {
                IngestStatus.Processed => "green",
                IngestStatus.Unchanged => "grey",
                IngestStatus.Skipped => "yellow",
                _ => "red",
            };
            table.AddRow(
                Markup.Escape(o.Name),
                $"[{colour}]{o.Status.ToString().ToLowerInvariant()}[/]",
                Markup.Escape(o.Document?.DocType ?? "-"),
                o.Document?.PageCount.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "-",
                o.Document?.PassageCount.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "-",
                Markup.Escape(o.Reason ?? string.Empty));
        }

        console.Write(table);
        console.MarkupLine($"{outcomes.Count(o => o.Status == IngestStatus.Processed)} processed, {outcomes.Count(o => o.Status == IngestStatus.Unchanged)} unchanged, {outcomes.Count(o => o.Status == IngestStatus.Skipped)} skipped, {outcomes.Count(o => o.Status == IngestStatus.Failed)} failed.");
    }
}
