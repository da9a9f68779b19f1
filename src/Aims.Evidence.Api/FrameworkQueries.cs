using Aims.Evidence.Core.Crosswalks;
using Aims.Evidence.Core.Services;
using Microsoft.AspNetCore.Http;

namespace Aims.Evidence.Api;

/// <summary>
/// The crosswalk routes, shared by every host like <see cref="AimsQueries"/>: the frameworks shipped with a crosswalk
/// to ISO/IEC 42001, and a framework's coverage derived from the current gap report (<see cref="FrameworkCoverage"/>).
/// </summary>
public static class FrameworkQueries
{
    public static IResult GetFrameworks(HttpContext context) =>
        ApiResults.Cached(context, CrosswalkCatalog.Default.Frameworks.Select(FrameworkSummary.From).ToArray());

    public static async Task<IResult> GetFrameworkCoverage(HttpContext context, EvidenceService evidence, string id, string? status, CancellationToken ct)
    {
        if (!CrosswalkCatalog.Default.TryGet(id, out var framework) || framework is null)
        {
            return ApiResults.NotFound("framework", id);
        }

        RequirementStatus? wanted = null;
        if (!string.IsNullOrWhiteSpace(status))
        {
            if (!FrameworkCoverage.TryParseStatus(status, out var s))
            {
                return ApiResults.Problem(StatusCodes.Status400BadRequest, "Invalid status", "status must be one of " + FrameworkCoverage.StatusList + ".");
            }

            wanted = s;
        }

        var view = await BuildAsync(evidence, framework, ct).ConfigureAwait(false);
        return ApiResults.Cached(context, wanted is null ? view : view with { Requirements = view.Requirements.Where(r => r.Status == FrameworkCoverage.StatusText(wanted.Value)).ToArray() });
    }

    /// <summary>The coverage view of a framework, as the API and <c>aims gaps --framework</c> print it.</summary>
    public static async Task<FrameworkCoverageView> BuildAsync(EvidenceService evidence, Crosswalk framework, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(evidence);
        var report = await evidence.GetGapReportAsync(ct).ConfigureAwait(false);
        return FrameworkCoverageView.From(FrameworkCoverage.Compute(framework, report));
    }
}
