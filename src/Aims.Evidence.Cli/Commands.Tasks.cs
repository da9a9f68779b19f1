using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Aims.Evidence.Api;
using Aims.Evidence.Core.Catalog;
using Aims.Evidence.Core.Gaps;
using Aims.Evidence.Core.Tasks;
using Aims.Evidence.Hosting;
using Aims.Evidence.Sqlite;
using Spectre.Console;

namespace Aims.Evidence.Cli;

/// <summary><c>aims tasks</c> (the open tasks of the entries' owners) and <c>aims owner</c> (assign or clear an owner).</summary>
public static partial class AimsCli
{
    private static Command TasksCommand(TextWriter output)
    {
        var json = JsonOption();
        var overdue = new Option<bool>("--overdue") { Description = "Only the tasks past their due date." };
        var command = new Command("tasks", "The open tasks: every entry with an owner whose status is missing, weak, stale or a nonconformity, with its due date.") { overdue, json };
        command.SetAction(async (parse, ct) =>
        {
            var options = AimsComposition.BindSection<TaskOptions>(AimsComposition.LoadConfiguration(), TaskOptions.Section);
            using var aims = await OpenDatabaseAsync(parse, null, mustExist: true, ct).ConfigureAwait(false);
            var tasks = await OwnerTasks.ListAsync(aims.Evidence, TimeProvider.System, options, ct).ConfigureAwait(false);
            var shown = parse.GetValue(overdue) ? tasks.Where(t => t.Overdue).ToArray() : tasks;
            if (parse.GetValue(json))
            {
                // The API's body (GET /api/v1/tasks[?status=overdue]).
                await output.WriteLineAsync(JsonSerializer.Serialize(new TaskList(tasks.Count, tasks.Count(t => t.Overdue), shown), Json)).ConfigureAwait(false);
                return ExitCodes.Ok;
            }

            var table = new Table().AddColumns("Entry", "Title", "Status", "Owner", "Due");
            foreach (var t in shown)
            {
                var due = t.DueDate.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
                table.AddRow(Markup.Escape(t.EntryId), Markup.Escape(t.Title), Markup.Escape(GapAnalyzer.StatusText(t.Status)), Markup.Escape(t.Owner), t.Overdue ? $"[red]{due} overdue[/]" : due);
            }

            Console(output).Write(table);
            await output.WriteLineAsync($"{tasks.Count} open tasks, {tasks.Count(t => t.Overdue)} overdue.").ConfigureAwait(false);
            return ExitCodes.Ok;
        });
        return command;
    }

    /// <summary>The entry a reviewer's decision is about: a clause or Annex A control, not a grouping clause; else a usage error.</summary>
    internal static CatalogEntry DecidableEntry(string raw)
    {
        return IsoCatalog.Default.TryGetDecidable(raw, out var entry)
            ? entry
            : throw new UsageException($"unknown entry '{raw.Trim()}' (a clause or Annex A control id, e.g. 6.1.2 or A.10.4)");
    }

    private static Command OwnerCommand(TextWriter output)
    {
        var id = new Argument<string>("id") { Description = "Clause or Annex A control id, e.g. A.6.2.2." };
        var owner = new Option<string?>("--owner") { Description = "Name or e-mail address of who answers for the entry (at most 200 characters)." };
        var due = new Option<string?>("--due") { Description = "When its gap should be closed (yyyy-MM-dd); default: the assignment plus Aims:Tasks:DefaultDueDays." };
        var clear = new Option<bool>("--clear") { Description = "Remove the entry's owner." };
        var command = new Command("owner", "Assign (or clear) the owner of an entry, with an optional due date (audited as \"cli\").") { id, owner, due, clear };
        command.SetAction(async (parse, ct) =>
        {
            var entry = DecidableEntry(parse.GetValue(id)!);

            var name = parse.GetValue(owner)?.Trim();
            if (parse.GetValue(clear) == (name is not null))
            {
                throw new UsageException("give exactly one of --owner and --clear");
            }

            if (name is not null && (name.Length == 0 || name.Length > AimsEvidenceApi.MaxOwnerLength))
            {
                throw new UsageException($"--owner must be 1 to {AimsEvidenceApi.MaxOwnerLength} characters");
            }

            DateOnly? dueDate = null;
            if (parse.GetValue(due) is { } text)
            {
                if (name is null || !DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var parsed))
                {
                    throw new UsageException("--due must be a date as yyyy-MM-dd, given with --owner");
                }

                dueDate = parsed;
            }

            using var store = new SqliteEvidenceStore(CheckDatabasePath(parse.GetValue(DbOption), mustExist: true));
            if (name is null)
            {
                var cleared = await store.ClearOwnerAsync(entry.Id, "cli", ct).ConfigureAwait(false);
                await output.WriteLineAsync(cleared ? $"{entry.Id}: owner cleared" : $"{entry.Id}: had no owner").ConfigureAwait(false);
                return ExitCodes.Ok;
            }

            var record = await store.SetOwnerAsync(entry.Id, name, dueDate, "cli", ct).ConfigureAwait(false);
            await output.WriteLineAsync($"{record.ControlId}: owner {record.Owner}{(record.DueDate is { } d ? ", due " + d.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) : string.Empty)}").ConfigureAwait(false);
            return ExitCodes.Ok;
        });
        return command;
    }
}
