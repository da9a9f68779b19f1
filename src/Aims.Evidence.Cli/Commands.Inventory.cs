using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Aims.Evidence.Api;
using Aims.Evidence.Core.Inventory;
using Aims.Evidence.Local;
using Spectre.Console;

namespace Aims.Evidence.Cli;

/// <summary><c>aims inventory</c> (the AI systems the documents describe) and <c>aims eval-inventory</c> (against a gold list).</summary>
public static partial class AimsCli
{
    private static Command InventoryCommand(TextWriter output)
    {
        var json = JsonOption();
        var command = new Command("inventory", "The AI-system inventory: every AI system the documents describe, merged across documents, with citations and the reviewer's edits.") { json };
        command.SetAction(async (parse, ct) =>
        {
            using var aims = await OpenDatabaseAsync(parse, null, mustExist: true, ct).ConfigureAwait(false);
            var systems = await aims.Evidence.Inventory.ListAsync(ct).ConfigureAwait(false);
            if (parse.GetValue(json))
            {
                // The API's body (GET /api/v1/ai-systems).
                await output.WriteLineAsync(JsonSerializer.Serialize(AiSystemList.From(systems), Json)).ConfigureAwait(false);
                return ExitCodes.Ok;
            }

            var table = new Table().AddColumns("Id", "Name", "Unit", "Provider", "Role", "Stage", "Risk", "Cited in");
            foreach (var s in systems)
            {
                table.AddRow(
                    Markup.Escape(s.Id), Markup.Escape(s.Name + (s.Confirmed ? " (confirmed)" : string.Empty)), Markup.Escape(s.Unit ?? "-"), Markup.Escape(s.Provider ?? "-"),
                    Markup.Escape(s.Role ?? "-"), Markup.Escape(s.Lifecycle ?? "-"), Markup.Escape(s.RiskLevel ?? "-"),
                    Markup.Escape(string.Join("; ", s.Citations.Take(3).Select(c => c.Citation)) + (s.Citations.Count > 3 ? $" (+{s.Citations.Count - 3})" : string.Empty)));
            }

            Console(output).Write(table);
            await output.WriteLineAsync($"{systems.Count} AI systems.").ConfigureAwait(false);
            return ExitCodes.Ok;
        });
        return command;
    }

    /// <summary>The gold file and the folder of an evaluation command: both must exist, else a usage error.</summary>
    internal static (string Gold, string Folder) GoldAndFolder(ParseResult parse, Option<string> goldOption, Option<string> filesOption)
    {
        var goldPath = parse.GetValue(goldOption)!;
        var folder = parse.GetValue(filesOption)!;
        if (!File.Exists(goldPath))
        {
            throw new UsageException($"no such gold file: {goldPath}");
        }

        return Directory.Exists(folder) ? (goldPath, folder) : throw new UsageException($"no such folder: {folder}");
    }

    /// <summary>An evaluation's documents ingested quietly into its database; a document that failed is one line on stderr.</summary>
    internal static async Task IngestEvaluationFolderAsync(LocalAims aims, string folder, TextWriter output, TextWriter error, CancellationToken ct)
    {
        var outcomes = await IngestFilesAsync(aims, EnumerateInputs([folder]), output, quiet: true, ct).ConfigureAwait(false);
        foreach (var f in outcomes.Where(o => o.Status == Core.Pipeline.IngestStatus.Failed))
        {
            await error.WriteLineAsync($"failed: {f.Name}: {f.Reason}").ConfigureAwait(false);
        }
    }

    /// <summary>Ingests a folder into a temporary database, measures it there, and deletes the database whatever happens.</summary>
    internal static async Task<T> MeasureFolderAsync<T>(string folder, string name, Func<LocalAims, Task<T>> measure, TextWriter output, TextWriter error, CancellationToken ct)
    {
        var db = Path.Combine(Path.GetTempPath(), $"aims-{name}-{Guid.NewGuid():N}.db");
        try
        {
            using var aims = await LocalAims.OpenAsync(db, cancellationToken: ct).ConfigureAwait(false);
            await IngestEvaluationFolderAsync(aims, folder, output, error, ct).ConfigureAwait(false);
            return await measure(aims).ConfigureAwait(false);
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            DeleteDatabase(db);
        }
    }

    private static Command EvalInventoryCommand(TextWriter output, TextWriter error)
    {
        var goldOption = new Option<string>("--gold") { Description = "Gold list of AI systems ({\"systems\":[{\"name\",\"aliases\",\"unit\"}]}).", Required = true };
        var filesOption = new Option<string>("--files") { Description = "Folder of the documents the gold list describes.", Required = true };
        var json = JsonOption();
        var command = new Command("eval-inventory", "Ingest a folder into a fresh database and measure the AI-system inventory against a gold list (precision, recall, misses).") { goldOption, filesOption, json };
        command.SetAction(async (parse, ct) =>
        {
            var (goldPath, folder) = GoldAndFolder(parse, goldOption, filesOption);

            IReadOnlyList<GoldSystem> gold;
            try
            {
                gold = InventoryEvaluation.ReadGold(await File.ReadAllTextAsync(goldPath, ct).ConfigureAwait(false));
            }
            catch (Exception ex) when (ex is JsonException or InvalidDataException)
            {
                throw new UsageException($"{goldPath}: {ex.Message}");
            }

            var systems = await MeasureFolderAsync(folder, "eval-inventory", aims => aims.Evidence.Inventory.DerivedAsync(ct), output, error, ct).ConfigureAwait(false);

            var score = InventoryEvaluation.Score(systems, gold);
            if (parse.GetValue(json))
            {
                await output.WriteLineAsync(JsonSerializer.Serialize(score, EvalJson)).ConfigureAwait(false);
                return ExitCodes.Ok;
            }

            await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"gold {score.Gold}, predicted {score.Predicted}, matched {score.Matched}: precision {score.Precision:0.000}, recall {score.Recall:0.000}")).ConfigureAwait(false);
            foreach (var miss in score.Misses)
            {
                await output.WriteLineAsync("miss: " + miss).ConfigureAwait(false);
            }

            foreach (var fp in score.FalsePositives)
            {
                await output.WriteLineAsync("false positive: " + fp).ConfigureAwait(false);
            }

            return ExitCodes.Ok;
        });
        return command;
    }
}
