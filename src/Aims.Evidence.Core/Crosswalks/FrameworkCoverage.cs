using System.Globalization;
using Aims.Evidence.Core.Gaps;

namespace Aims.Evidence.Core.Crosswalks;

/// <summary>
/// The status of a framework's requirement, derived from the ISO/IEC 42001 gap statuses of its related entries
/// (<see cref="FrameworkCoverage.Compute"/>, in this order):
/// <list type="bullet">
/// <item><c>outOfScope</c>: no ISO/IEC 42001 entry relates; the AI management system's evidence cannot show it;</item>
/// <item><c>notApplicable</c>: a reviewer excluded every related entry;</item>
/// <item><c>nonconformity</c>: a related entry has an open finding;</item>
/// <item><c>covered</c>: every related entry (excluded ones aside) is covered and the relation is equivalent;</item>
/// <item><c>missing</c>: no related entry has any evidence;</item>
/// <item><c>partial</c>: otherwise: some related entries lack coverage, or all are covered but they address only part of the requirement.</item>
/// </list>
/// </summary>
public enum RequirementStatus
{
    Nonconformity,
    Missing,
    Partial,
    Covered,
    NotApplicable,
    OutOfScope,
}

/// <summary>A related ISO/IEC 42001 entry as the gap analysis sees it, with the evidence it cites (a finding for a nonconformity).</summary>
public sealed record RelatedEntryCoverage(string Id, string Title, GapStatus Status, string Reason, Citation? Evidence);

public sealed record RequirementCoverage(CrosswalkRequirement Requirement, RequirementStatus Status, string Reason, IReadOnlyList<RelatedEntryCoverage> Related);

public sealed record FrameworkCoverageReport(Crosswalk Framework, DateTimeOffset GeneratedAt, IReadOnlyList<RequirementCoverage> Requirements)
{
    /// <summary>How many requirements have the status.</summary>
    public int Count(RequirementStatus status) => Requirements.Count(r => r.Status == status);
}

/// <summary>A framework's coverage from the ISO/IEC 42001 gap report: one rule set for the CLI and every host.</summary>
public static class FrameworkCoverage
{
    /// <summary>The status as every output writes it (camelCase, as the API's enums): "outOfScope", "notApplicable".</summary>
    public static string StatusText(RequirementStatus status) => System.Text.Json.JsonNamingPolicy.CamelCase.ConvertName(status.ToString());

    /// <summary>Every status as written, for error messages: "nonconformity, missing, ...".</summary>
    public static string StatusList { get; } = string.Join(", ", Enum.GetValues<RequirementStatus>().Select(StatusText));

    /// <summary>A status by its name in any case ("outOfScope", "partial"); numbers are not names.</summary>
    public static bool TryParseStatus(string? text, out RequirementStatus status)
    {
        status = default;
        return text is not null && !int.TryParse(text, out _) && Enum.TryParse(text.Trim(), ignoreCase: true, out status);
    }

    public static FrameworkCoverageReport Compute(Crosswalk framework, GapReport report)
    {
        ArgumentNullException.ThrowIfNull(framework);
        ArgumentNullException.ThrowIfNull(report);
        var gaps = report.Entries.ToDictionary(g => g.Entry.Id, StringComparer.Ordinal);
        var rows = framework.Requirements.Select(r =>
        {
            var related = r.Related.Select(id => gaps.TryGetValue(id, out var g)
                    ? new RelatedEntryCoverage(g.Entry.Id, g.Entry.Title, g.Status, g.Reason, g.BestEvidence)
                    : throw new InvalidOperationException($"Crosswalk {framework.Id} row {r.Id} relates to {id}, which the gap report does not hold."))
                .ToArray();
            var (status, reason) = Derive(r, related);
            return new RequirementCoverage(r, status, reason, related);
        }).ToArray();
        return new FrameworkCoverageReport(framework, report.GeneratedAt, rows);
    }

    private static (RequirementStatus Status, string Reason) Derive(CrosswalkRequirement requirement, RelatedEntryCoverage[] related)
    {
        if (related.Length == 0)
        {
            return (RequirementStatus.OutOfScope, "no ISO/IEC 42001 entry relates: the AI management system's evidence cannot show this requirement");
        }

        var applicable = related.Where(e => e.Status != GapStatus.NotApplicable).ToArray();
        if (applicable.Length == 0)
        {
            return (RequirementStatus.NotApplicable, $"every related entry ({Ids(related)}) was excluded by a reviewer");
        }

        var open = applicable.Where(e => e.Status == GapStatus.Nonconformity).ToArray();
        if (open.Length > 0)
        {
            return (RequirementStatus.Nonconformity, $"open finding against {Ids(open)}");
        }

        var covered = applicable.Count(e => e.Status == GapStatus.Covered);
        var excluded = related.Length - applicable.Length;
        var tail = excluded > 0 ? string.Create(CultureInfo.InvariantCulture, $"; {excluded} excluded by a reviewer") : string.Empty;
        if (covered == applicable.Length)
        {
            return requirement.Relation == CrosswalkRelation.Equivalent
                ? (RequirementStatus.Covered, $"every related entry is covered ({Ids(applicable)}){tail}")
                : (RequirementStatus.Partial, $"the related entries are covered ({Ids(applicable)}) but address only part of this requirement{tail}");
        }

        if (applicable.All(e => e.Status == GapStatus.Missing))
        {
            return (RequirementStatus.Missing, $"no evidence for any related entry ({Ids(applicable)}){tail}");
        }

        var others = applicable.Where(e => e.Status != GapStatus.Covered).Select(e => $"{e.Id} {GapAnalyzer.StatusText(e.Status)}");
        return (RequirementStatus.Partial, string.Create(CultureInfo.InvariantCulture, $"{covered} of {applicable.Length} related entries covered; {string.Join(", ", others)}{tail}"));
    }

    private static string Ids(IEnumerable<RelatedEntryCoverage> entries) => string.Join(", ", entries.Select(e => e.Id));
}
