using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Aims.Evidence.Api;
using Aims.Evidence.Core.Crosswalks;
using Spectre.Console;

namespace Aims.Evidence.Cli;

/// <summary><c>aims gaps --framework iso27001|nist-ai-rmf|eu-ai-act</c>: another framework's requirements with the status their ISO/IEC 42001 evidence gives them.</summary>
public static partial class AimsCli
{
    private static Option<string?> FrameworkOption() => new("--framework")
    {
        Description = "Report another framework's requirements through the crosswalk to ISO/IEC 42001: " + string.Join(", ", CrosswalkCatalog.Ids) + ".",
    };

    private static async Task<int> FrameworkGapsAsync(ParseResult parse, string frameworkId, string[]? statuses, bool json, TextWriter output, CancellationToken ct)
    {
        if (!CrosswalkCatalog.Default.TryGet(frameworkId, out var framework) || framework is null)
        {
            throw new UsageException($"unknown framework '{frameworkId}' (use {string.Join(", ", CrosswalkCatalog.Ids)})");
        }

        var wanted = ParseRequirementStatuses(statuses);
        using var aims = await OpenDatabaseAsync(parse, null, mustExist: true, ct).ConfigureAwait(false);
        var view = await FrameworkQueries.BuildAsync(aims.Evidence, framework, ct).ConfigureAwait(false);
        if (wanted is not null)
        {
            view = view with { Requirements = view.Requirements.Where(r => wanted.Contains(r.Status)).ToArray() };
        }

        if (json)
        {
            // The API's body (GET /api/v1/frameworks/{id}/coverage), in the API's JSON.
            await output.WriteLineAsync(JsonSerializer.Serialize(view, Json)).ConfigureAwait(false);
            return ExitCodes.Ok;
        }

        var console = Console(output);
        console.Write(new Rule($"[bold]{Markup.Escape(framework.Title)}: coverage from ISO/IEC 42001 evidence[/]").LeftJustified());
        var table = new Table().Border(TableBorder.Simple).AddColumns("Id", "Title", "Status", "Why", "ISO/IEC 42001 entries", "Evidence: document, page, section");
        foreach (var r in view.Requirements)
        {
            var related = r.Related.Count == 0 ? "[grey]-[/]" : Markup.Escape(string.Join(", ", r.Related.Select(e => $"{e.Id} {e.Status}")));
            var cited = r.Related.Where(e => e.Evidence is not null).Select(e => $"{e.Id}: {Excerpt(e.Evidence!.Display, 60)}{(e.Evidence.Polarity == "finding" ? " (finding)" : string.Empty)}").ToArray();
            table.AddRow(Markup.Escape(r.Id), Markup.Escape(Excerpt(r.Title, 40)), RequirementMarkup(r.Status), Markup.Escape(r.Reason), related,
                cited.Length == 0 ? "[grey]-[/]" : Markup.Escape(string.Join("; ", cited)));
        }

        console.Write(table);
        var c = view.Counts;
        await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
            $"{view.Framework.Requirements} requirements: {c.Covered} covered, {c.Partial} partial, {c.Missing} missing, {c.Nonconformity} nonconformity, {c.NotApplicable} notApplicable, {c.OutOfScope} outOfScope (no ISO/IEC 42001 entry relates). Source: {view.Framework.Source}")).ConfigureAwait(false);
        return ExitCodes.Ok;
    }

    private static HashSet<string>? ParseRequirementStatuses(string[]? values)
    {
        if (values is null || values.Length == 0)
        {
            return null;
        }

        var set = new HashSet<string>(StringComparer.Ordinal);
        foreach (var v in values.SelectMany(v => v.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)))
        {
            if (!FrameworkCoverage.TryParseStatus(v, out var s))
            {
                throw new UsageException($"unknown status '{v}' for a framework (use {FrameworkCoverage.StatusList})");
            }

            set.Add(FrameworkCoverage.StatusText(s));
        }

        return set;
    }

    private static string RequirementMarkup(string status) => status switch
    {
        "covered" => "[green]covered[/]",
        "partial" => "[yellow]partial[/]",
        "nonconformity" => "[bold white on red]nonconformity[/]",
        "missing" => "[red]missing[/]",
        _ => "[grey]" + status + "[/]",
    };
}
