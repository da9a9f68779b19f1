using System.CommandLine;
using System.Text.Json;
using Aims.Evidence.Api;
using Aims.Evidence.Core.Catalog;
using Aims.Evidence.Core.Services;
using Aims.Evidence.Sqlite;
using Spectre.Console;

namespace Aims.Evidence.Cli;

/// <summary><c>aims soa</c> (the Statement of Applicability) and <c>aims applicability</c> (a reviewer's inclusion or exclusion).</summary>
public static partial class AimsCli
{
    private static Command SoaCommand(TextWriter output)
    {
        var json = JsonOption();
        var command = new Command("soa", "The draft Statement of Applicability: every Annex A control with its applicability, justification, status and evidence.") { json };
        command.SetAction(async (parse, ct) =>
        {
            using var store = new SqliteEvidenceStore(CheckDatabasePath(parse.GetValue(DbOption), mustExist: true));
            var rows = await AimsEvidenceApi.BuildSoaAsync(new EvidenceService(store, IsoCatalog.Default), ct).ConfigureAwait(false);
            if (parse.GetValue(json))
            {
                // The API's rows (GET /api/v1/exports/soa), in the API's JSON.
                await output.WriteLineAsync(JsonSerializer.Serialize(rows, Json)).ConfigureAwait(false);
                return ExitCodes.Ok;
            }

            var table = new Table().AddColumns("Control", "Title", "Applicable", "Justification", "Status");
            foreach (var r in rows)
            {
                table.AddRow(Markup.Escape(r.ControlId), Markup.Escape(r.Title), r.Applicable == "no" ? "[grey]no[/]" : "yes", Markup.Escape(r.Justification), Markup.Escape($"{r.Status}: {r.Reason}"));
            }

            Console(output).Write(table);
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command ApplicabilityCommand(TextWriter output)
    {
        var id = new Argument<string>("id") { Description = "Clause or Annex A control id, e.g. A.10.4." };
        var exclude = new Option<bool>("--exclude") { Description = "The entry does not apply to the organisation (needs --justification)." };
        var include = new Option<bool>("--include") { Description = "The entry applies (the default for every entry)." };
        var justification = new Option<string?>("--justification") { Description = "Why it is included or excluded (ISO/IEC 42001 6.1.3); at most 2000 characters." };
        var command = new Command("applicability", "Record a reviewer's inclusion or exclusion of an entry, with its justification (audited as \"cli\").") { id, exclude, include, justification };
        command.SetAction(async (parse, ct) =>
        {
            var entry = DecidableEntry(parse.GetValue(id)!);

            if (parse.GetValue(exclude) == parse.GetValue(include))
            {
                throw new UsageException("give exactly one of --include and --exclude");
            }

            var why = parse.GetValue(justification)?.Trim() ?? string.Empty;
            var applicable = parse.GetValue(include);
            if (!applicable && why.Length == 0)
            {
                throw new UsageException("--exclude needs --justification (ISO/IEC 42001 6.1.3)");
            }

            if (why.Length > 2000)
            {
                throw new UsageException("--justification is limited to 2000 characters");
            }

            using var store = new SqliteEvidenceStore(CheckDatabasePath(parse.GetValue(DbOption), mustExist: true));
            var decision = await store.SetApplicabilityAsync(entry.Id, applicable, why, "cli", ct).ConfigureAwait(false);
            await output.WriteLineAsync($"{decision.ControlId}: {(decision.Applicable ? "applicable" : "not applicable")}{(why.Length > 0 ? " (" + why + ")" : string.Empty)}").ConfigureAwait(false);
            return ExitCodes.Ok;
        });
        return command;
    }
}
