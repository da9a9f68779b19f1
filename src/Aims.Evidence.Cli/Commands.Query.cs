using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Aims.Evidence.Api;
using Aims.Evidence.Core.Gaps;
using Aims.Evidence.Core.Storage;
using Aims.Evidence.Local;
using Spectre.Console;

namespace Aims.Evidence.Cli;

public static partial class AimsCli
{
    private static Command StatusCommand(TextWriter output)
    {
        var json = JsonOption();
        var all = new Option<bool>("--all") { Description = "Include superseded versions." };
        var command = new Command("status", "Documents with their status, reason, type and version; recent runs.") { json, all };
        command.SetAction(async (parse, ct) =>
        {
            using var aims = await OpenDatabaseAsync(parse, null, mustExist: true, ct).ConfigureAwait(false);
            var docs = await aims.Store.ListDocumentsAsync(parse.GetValue(all), ct).ConfigureAwait(false);
            var runs = await aims.Store.ListRunsAsync(10, ct).ConfigureAwait(false);
            var llmTotals = await aims.Store.GetLlmUsageAsync(null, ct).ConfigureAwait(false);
            var totals = new
            {
                documents = docs.Count,
                processed = docs.Count(d => d.Status == DocumentStatus.Processed),
                failed = docs.Count(d => d.Status == DocumentStatus.Failed),
                skipped = docs.Count(d => d.Status == DocumentStatus.Skipped),
                passages = docs.Sum(d => d.PassageCount),
            };
            if (parse.GetValue(json))
            {
                var body = new
                {
                    database = aims.Store.Path,
                    mapper = aims.Mapper.Name,
                    catalogVersion = aims.Catalog.Version,
                    totals,
                    documents = docs.Select(DocumentSummary.From),
                    runs,
                    llm = LlmJson(llmTotals),
                };
                await output.WriteLineAsync(JsonSerializer.Serialize(body, Json)).ConfigureAwait(false);
                return ExitCodes.Ok;
            }

            var console = Console(output);
            var table = new Table().AddColumns("Document", "Version", "Status", "Type", "Pages", "Passages", "Dated", "Reason");
            foreach (var d in docs)
            {
                var dated = d.EffectiveDate is { } e ? string.Create(CultureInfo.InvariantCulture, $"{e:yyyy-MM-dd} (set by a reviewer)")
                    : d.StatedDate is { } s ? string.Create(CultureInfo.InvariantCulture, $"{s:yyyy-MM-dd} ({d.StatedDateSource})")
                    : "-";
                table.AddRow(Markup.Escape(d.Name), d.Version.ToString(CultureInfo.InvariantCulture), StatusMarkup(d.Status), Markup.Escape(d.DocType ?? "-"),
                    d.PageCount.ToString(CultureInfo.InvariantCulture), d.PassageCount.ToString(CultureInfo.InvariantCulture), Markup.Escape(dated), Markup.Escape(d.Reason ?? string.Empty));
            }

            console.Write(table);
            console.MarkupLine($"{totals.documents} documents: {totals.processed} processed, {totals.failed} failed, {totals.skipped} skipped; {totals.passages} passages. Database: {Markup.Escape(aims.Store.Path)}");
            if (llmTotals.Calls > 0 || llmTotals.CacheHits > 0 || llmTotals.Fallbacks > 0)
            {
                console.MarkupLine(string.Create(CultureInfo.InvariantCulture, $"LLM: {llmTotals.Calls} calls, {llmTotals.PromptTokens} prompt + {llmTotals.CompletionTokens} completion tokens, {llmTotals.CacheHits} cached passages, {llmTotals.Fallbacks} fallbacks, {llmTotals.RejectedIds} rejected ids."));
            }
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command ControlsCommand(TextWriter output)
    {
        var json = JsonOption();
        var command = new Command("controls", "The ISO/IEC 42001 catalog: clauses 4-10 and Annex A controls with their status.") { json };
        command.SetAction(async (parse, ct) =>
        {
            using var aims = await OpenDatabaseAsync(parse, null, mustExist: true, ct).ConfigureAwait(false);
            var report = await aims.Evidence.GetGapReportAsync(ct).ConfigureAwait(false);
            if (parse.GetValue(json))
            {
                // The API's rows (GET /api/v1/controls, every entry on one page).
                var body = report.Entries.Select(ControlSummary.From);
                await output.WriteLineAsync(JsonSerializer.Serialize(body, Json)).ConfigureAwait(false);
                return ExitCodes.Ok;
            }

            var console = Console(output);
            var table = new Table().AddColumns("Id", "Title", "Status", "Passages");
            foreach (var g in report.Entries)
            {
                table.AddRow(Markup.Escape(g.Entry.Id), Markup.Escape(g.Entry.Title), GapMarkup(g.Status), g.PassageCount.ToString(CultureInfo.InvariantCulture));
            }

            console.Write(table);
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command GapsCommand(TextWriter output)
    {
        var json = JsonOption();
        var statusFilter = new Option<string[]>("--status") { Description = "Only entries with these statuses (nonconformity, missing, stale, weak, suggested, covered; with --framework: covered, partial, missing, nonconformity, notApplicable, outOfScope).", AllowMultipleArgumentsPerToken = true };
        var framework = FrameworkOption();
        var command = new Command("gaps", "The gap report: every clause and control with its status, best evidence and citation; coverage per clause and objective.") { json, statusFilter, framework };
        command.SetAction(async (parse, ct) =>
        {
            if (parse.GetValue(framework) is { } frameworkId)
            {
                return await FrameworkGapsAsync(parse, frameworkId, parse.GetValue(statusFilter), parse.GetValue(json), output, ct).ConfigureAwait(false);
            }

            var wanted = ParseStatuses(parse.GetValue(statusFilter));
            using var aims = await OpenDatabaseAsync(parse, null, mustExist: true, ct).ConfigureAwait(false);
            var report = await aims.Evidence.GetGapReportAsync(ct).ConfigureAwait(false);
            await WriteGapReportAsync(report, wanted, parse.GetValue(json), output).ConfigureAwait(false);
            return ExitCodes.Ok;
        });
        return command;
    }

    internal static async Task WriteGapReportAsync(GapReport report, IReadOnlySet<GapStatus>? wanted, bool json, TextWriter output)
    {
        // Nonconformities first (open findings need action before anything else), then catalog order.
        var entries = report.Entries.Where(g => wanted is null || wanted.Contains(g.Status))
            .OrderBy(g => g.Status == GapStatus.Nonconformity ? 0 : 1).ToArray();
        if (json)
        {
            // The API's DTOs: coverage as GET /api/v1/coverage, entries as GET /api/v1/gaps with their best evidence.
            var body = GapReportView.From(report, entries);
            await output.WriteLineAsync(JsonSerializer.Serialize(body, Json)).ConfigureAwait(false);
            return;
        }

        var console = Console(output);
        console.Write(new Rule("[bold]ISO/IEC 42001 gap report[/]").LeftJustified());
        var table = new Table().Border(TableBorder.Simple).AddColumns("Id", "Title", "Status", "Why", "Best evidence (a finding for a nonconformity): document, page, section (probability)");
        foreach (var g in entries.Where(g => !g.Entry.Container))
        {
            var evidence = g.BestEvidence is { } c
                ? $"{Markup.Escape(Excerpt(c.Display, 60))} [grey]({Math.Floor(c.Score * 100) / 100:0.00})[/]"
                : "[grey]-[/]";
            table.AddRow(Markup.Escape(g.Entry.Id), Markup.Escape(Excerpt(g.Entry.Title, 36)), GapMarkup(g.Status), Markup.Escape(g.Reason), evidence);
        }

        console.Write(table);
        var coverage = new Table().Border(TableBorder.Simple).AddColumns("Clause / objective", "Entries", "Covered", "Suggested", "Weak", "Stale", "Missing", "Nonconformity", "Covered %", "With evidence %");
        foreach (var c in report.Clauses.Concat(report.Objectives).Append(report.Overall))
        {
            coverage.AddRow(Markup.Escape(c.Group), N(c.Total), N(c.Covered), N(c.Suggested), N(c.Weak), N(c.Stale), N(c.Missing), N(c.Nonconformity),
                c.CoveredPercent.ToString("0.0", CultureInfo.InvariantCulture), c.EvidencedPercent.ToString("0.0", CultureInfo.InvariantCulture));
        }

        console.Write(coverage);

        static string N(int n) => n.ToString(CultureInfo.InvariantCulture);
    }

    private static HashSet<GapStatus>? ParseStatuses(string[]? values)
    {
        if (values is null || values.Length == 0)
        {
            return null;
        }

        var set = new HashSet<GapStatus>();
        foreach (var v in values.SelectMany(v => v.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)))
        {
            if (!Enum.TryParse<GapStatus>(v, ignoreCase: true, out var s) || int.TryParse(v, out _))
            {
                throw new UsageException($"unknown status '{v}' (use nonconformity, missing, stale, weak, suggested, covered, notApplicable)");
            }

            set.Add(s);
        }

        return set;
    }

    private static Command SearchCommand(TextWriter output)
    {
        var query = new Argument<string>("query") { Description = "Words to search for in passages." };
        var control = new Option<string?>("--control") { Description = "Only passages mapped to this control id." };
        var docType = new Option<string?>("--doc-type") { Description = "Only passages of documents of this type." };
        var limit = new Option<int>("--limit") { Description = "Maximum results.", DefaultValueFactory = _ => 10 };
        var json = JsonOption();
        var command = new Command("search", "Ranked passages with citations.") { query, control, docType, limit, json };
        command.SetAction(async (parse, ct) =>
        {
            using var aims = await OpenDatabaseAsync(parse, null, mustExist: true, ct).ConfigureAwait(false);
            var controlId = parse.GetValue(control);
            if (controlId is not null && !aims.Catalog.Contains(controlId))
            {
                throw new UsageException($"unknown control id '{controlId}'");
            }

            var hits = await aims.Store.SearchAsync(new SearchQuery(parse.GetValue(query)!, controlId, parse.GetValue(docType), parse.GetValue(limit)), ct).ConfigureAwait(false);
            if (parse.GetValue(json))
            {
                // The API's results (GET /api/v1/search).
                var body = hits.Select(SearchResult.From);
                await output.WriteLineAsync(JsonSerializer.Serialize(body, Json)).ConfigureAwait(false);
                return ExitCodes.Ok;
            }

            var console = Console(output);
            if (hits.Count == 0)
            {
                console.MarkupLine("No passages found.");
            }

            var rank = 1;
            foreach (var h in hits)
            {
                var heading = h.Passage.Headings.Count > 0 ? ", § " + h.Passage.Headings[^1] : string.Empty;
                console.MarkupLine($"[bold]{rank++}.[/] {Markup.Escape(h.Document.Name)}, p. {h.Passage.Page}{Markup.Escape(heading)} [grey]({h.Score:0.00}; {Markup.Escape(string.Join(", ", h.Mappings.Select(m => m.ControlId)))})[/]");
                console.MarkupLine("   " + Markup.Escape(Excerpt(h.Passage.Text, 240)));
            }

            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command ExportCommand(TextWriter output, TextWriter error)
    {
        var format = new Option<string>("--format") { Description = "Export format (jsonl).", DefaultValueFactory = _ => "jsonl" };
        var outFile = new Option<string?>("--out") { Description = "Write to this file instead of standard output." };
        var passages = new Command("passages", "One JSON line per passage with its document and the mappings the system stands behind.") { format, outFile };
        passages.SetAction(async (parse, ct) =>
        {
            if (!string.Equals(parse.GetValue(format), "jsonl", StringComparison.OrdinalIgnoreCase))
            {
                throw new UsageException($"unsupported format '{parse.GetValue(format)}' (use jsonl)");
            }

            using var aims = await OpenDatabaseAsync(parse, null, mustExist: true, ct).ConfigureAwait(false);
            var path = parse.GetValue(outFile);
            var writer = path is null ? output : new StreamWriter(path, append: false, new System.Text.UTF8Encoding(false));
            var count = 0;
            try
            {
                await foreach (var line in aims.Evidence.ExportPassagesAsync(ct).ConfigureAwait(false))
                {
                    await writer.WriteLineAsync(JsonSerializer.Serialize(line, JsonLine)).ConfigureAwait(false);
                    count++;
                }
            }
            finally
            {
                if (path is not null)
                {
                    await writer.DisposeAsync().ConfigureAwait(false);
                }
            }

            if (path is not null)
            {
                await error.WriteLineAsync($"{count} passages written to {path}").ConfigureAwait(false);
            }

            return ExitCodes.Ok;
        });
        return new Command("export", "Export evidence.") { passages, PackCommand(error) };
    }

    private static Command DemoCommand(TextWriter output, TextWriter error)
    {
        var samples = new Option<string?>("--samples") { Description = "Folder of documents to ingest (default: the repository's samples/)." };
        var json = JsonOption();
        var command = new Command("demo", "Ingest the bundled samples into a fresh database and print the gap report.") { samples, json };
        command.SetAction(async (parse, ct) =>
        {
            var folder = parse.GetValue(samples) ?? FindSamples() ?? throw new UsageException("samples/ not found; pass --samples DIR");
            var db = parse.GetResult(DbOption) is { Implicit: false } ? parse.GetValue(DbOption)! : "aims-demo.db";
            CheckDatabasePath(db, mustExist: false); // the demo replaces a database, never a folder or another file
            foreach (var suffix in new[] { string.Empty, "-wal", "-shm" })
            {
                File.Delete(db + suffix);
            }

            using var aims = await LocalAims.OpenAsync(db, cancellationToken: ct).ConfigureAwait(false);
            var outcomes = await IngestFilesAsync(aims, EnumerateInputs([folder]), output, parse.GetValue(json), ct).ConfigureAwait(false);
            if (!parse.GetValue(json))
            {
                PrintOutcomes(Console(output), outcomes);
            }

            var report = await aims.Evidence.GetGapReportAsync(ct).ConfigureAwait(false);
            await WriteGapReportAsync(report, null, parse.GetValue(json), output).ConfigureAwait(false);
            await error.WriteLineAsync($"Demo database: {aims.Store.Path} (try: aims gaps --db {db}, aims search \"intended use\" --db {db})").ConfigureAwait(false);
            return outcomes.Any(o => o.Status == Core.Pipeline.IngestStatus.Failed) ? ExitCodes.DocumentsFailed : ExitCodes.Ok;
        });
        return command;
    }

    private static string? FindSamples() =>
        FindRepositoryRoot() is { } root && Directory.Exists(Path.Combine(root, "samples")) ? Path.Combine(root, "samples") : null;

    /// <summary>
    /// The checkout the program runs in or from: the first folder holding <c>Aims.Evidence.sln</c> above the working
    /// directory, else above the binaries; null outside one. The demo finds <c>samples/</c> there, the tools the shared
    /// corpus beside it.
    /// </summary>
    public static string? FindRepositoryRoot()
    {
        foreach (var start in new[] { Environment.CurrentDirectory, AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "Aims.Evidence.sln")))
                {
                    return dir.FullName;
                }
            }
        }

        return null;
    }

    internal static string Excerpt(string text, int max) => text.Length <= max ? text : text[..(max - 1)] + "…";

    private static string StatusMarkup(DocumentStatus status) => status switch
    {
        DocumentStatus.Processed => "[green]processed[/]",
        DocumentStatus.Skipped => "[yellow]skipped[/]",
        _ => "[red]failed[/]",
    };

    private static string GapMarkup(GapStatus status) => status switch
    {
        GapStatus.Covered => "[green]covered[/]",
        GapStatus.Suggested => "[blue]suggested[/]",
        GapStatus.Weak => "[yellow]weak[/]",
        GapStatus.Stale => "[purple]stale[/]",
        GapStatus.Nonconformity => "[bold white on red]nonconformity[/]",
        GapStatus.NotApplicable => "[grey]notApplicable[/]",
        _ => "[red]missing[/]",
    };
}
