using System.Globalization;
using System.Text;
using System.Text.Json;
using Aims.Evidence.Core.Catalog;
using Aims.Evidence.Core.Classification;
using Aims.Evidence.Core.Gaps;
using Aims.Evidence.Core.Services;
using Aims.Evidence.Core.Storage;
using Microsoft.AspNetCore.Http;

namespace Aims.Evidence.Api;

/// <summary>
/// The read queries of the REST API, one implementation each, shared by every host: the ASP.NET Core endpoints of
/// <see cref="AimsEvidenceApi.MapAimsEvidenceApi"/> bind their parameters to these methods, and the Azure Functions
/// HTTP triggers call them with the values parsed by <see cref="QueryArgs"/>. Each returns an <see cref="IResult"/>
/// that writes the same JSON body, ETag and problem details in either host. The request's services must provide
/// the options registered by <see cref="AimsEvidenceApi.AddAimsQueries"/>.
/// </summary>
public static class AimsQueries
{
    public static async Task<IResult> GetControls(HttpContext context, EvidenceService evidence, int? limit, string? continuationToken, string? kind, CancellationToken ct)
    {
        if (ApiResults.TryPaging(context, limit, continuationToken, out var offset, out var take) is { } bad)
        {
            return bad;
        }

        var report = await evidence.GetGapReportAsync(ct).ConfigureAwait(false);
        var items = report.Entries.Select(ControlSummary.From).Where(c => kind is null || string.Equals(c.Kind, kind, StringComparison.OrdinalIgnoreCase));
        return ApiResults.Cached(context, ApiResults.Paginate(items, offset, take));
    }

    public static async Task<IResult> GetControl(HttpContext context, EvidenceService evidence, string id, CancellationToken ct)
    {
        if (!evidence.Catalog.TryGet(id, out var entry) || entry is null)
        {
            return ApiResults.NotFound("control or clause", id);
        }

        var report = await evidence.GetGapReportAsync(ct).ConfigureAwait(false);
        var gap = report.Entries.First(g => g.Entry.Id == id);
        // A control reads only its own links; a container (a clause with sub-clauses) needs its children's too.
        var links = await evidence.Store.GetEvidenceAsync(entry.Container ? null : id, ct).ConfigureAwait(false);
        var own = links.Where(l => l.Mapping.ControlId == id || (entry.Container && evidence.Catalog.TryGet(l.Mapping.ControlId, out var c) && c?.Parent == id))
            .OrderByDescending(l => l.Mapping.Review == ReviewState.Accepted).ThenByDescending(l => l.Mapping.Score)
            .Select(EvidenceCitation.From).ToArray();
        var detail = new ControlDetail(ControlSummary.From(gap), entry.Summary, entry.ExpectedEvidence, ExpectedDocuments.For(entry), own);
        return ApiResults.Cached(context, detail);
    }

    public static async Task<IResult> GetGaps(HttpContext context, EvidenceService evidence, int? limit, string? continuationToken, string? group, string? status, string? docType, CancellationToken ct)
    {
        if (ApiResults.TryPaging(context, limit, continuationToken, out var offset, out var take) is { } bad)
        {
            return bad;
        }

        GapStatus? wanted = null;
        if (!string.IsNullOrWhiteSpace(status))
        {
            if (!Enum.TryParse<GapStatus>(status, ignoreCase: true, out var s) || int.TryParse(status, out _))
            {
                return ApiResults.Problem(400, "Invalid status", "status must be one of nonconformity, missing, stale, weak, suggested, covered, notApplicable.");
            }

            wanted = s;
        }

        if (UnknownFilter(null, docType) is { } unknown)
        {
            return unknown;
        }

        var report = await evidence.GetGapReportAsync(ct).ConfigureAwait(false);
        var items = report.Entries
            .Where(g => !g.Entry.Container)
            .Where(g => wanted is null ? g.Status is not (GapStatus.Covered or GapStatus.NotApplicable) : g.Status == wanted)
            .Where(g => string.IsNullOrWhiteSpace(group) || InGroup(g.Entry, group))
            .Where(g => string.IsNullOrWhiteSpace(docType) || ExpectedDocuments.For(g.Entry).Contains(docType, StringComparer.OrdinalIgnoreCase))
            .OrderBy(g => g.Status)
            .Select(ControlSummary.From);
        return ApiResults.Cached(context, ApiResults.Paginate(items, offset, take));
    }

    /// <summary>"6", "6 Planning", "A.6", "A.6.2" or the full group name all select the entries of that clause or objective.</summary>
    private static bool InGroup(CatalogEntry entry, string group)
    {
        group = group.Trim();
        return string.Equals(entry.Group, group, StringComparison.OrdinalIgnoreCase)
            || entry.Group.StartsWith(group + " ", StringComparison.OrdinalIgnoreCase)
            || string.Equals(entry.SubGroup, group, StringComparison.OrdinalIgnoreCase)
            || entry.Id.StartsWith(group + ".", StringComparison.OrdinalIgnoreCase)
            || string.Equals(entry.Id, group, StringComparison.OrdinalIgnoreCase);
    }

    public static async Task<IResult> GetCoverage(HttpContext context, EvidenceService evidence, CancellationToken ct)
    {
        var report = await evidence.GetGapReportAsync(ct).ConfigureAwait(false);
        return ApiResults.Cached(context, new CoverageReport(
            CoverageView.From(report.Overall),
            report.Clauses.Select(CoverageView.From).ToArray(),
            report.Objectives.Select(CoverageView.From).ToArray()));
    }

    public static async Task<IResult> GetDocuments(HttpContext context, IEvidenceStore store, int? limit, string? continuationToken, bool? all, CancellationToken ct)
    {
        if (ApiResults.TryPaging(context, limit, continuationToken, out var offset, out var take) is { } bad)
        {
            return bad;
        }

        var docs = await store.ListDocumentsAsync(all ?? false, ct).ConfigureAwait(false);
        return ApiResults.Cached(context, ApiResults.Paginate(docs.Select(DocumentSummary.From), offset, take));
    }

    public static async Task<IResult> GetDocument(HttpContext context, IEvidenceStore store, string id, CancellationToken ct)
    {
        var doc = await store.GetDocumentAsync(id, ct).ConfigureAwait(false);
        if (doc is null)
        {
            return ApiResults.NotFound("document", id);
        }

        var versions = await store.GetVersionsAsync(doc.Name, ct).ConfigureAwait(false);
        var passages = await store.GetPassagesAsync(doc.Id, ct).ConfigureAwait(false);
        var detail = new DocumentDetail(
            DocumentSummary.From(doc),
            versions.Select(DocumentSummary.From).ToArray(),
            passages.Select(PassageView.From).ToArray());
        return ApiResults.Cached(context, detail);
    }

    /// <summary>A 400 problem for a control id outside the catalog or an unknown document type, instead of an empty page.</summary>
    private static IResult? UnknownFilter(string? control, string? docType)
    {
        if (!string.IsNullOrWhiteSpace(control) && !IsoCatalog.Default.Contains(control.Trim()))
        {
            return ApiResults.Problem(400, "Unknown control", "control must be an ISO/IEC 42001 clause or Annex A control id, e.g. \"A.6.2.2\" or \"6.1.2\".");
        }

        if (!string.IsNullOrWhiteSpace(docType) && !DocumentTypes.IsKnown(docType.Trim()))
        {
            return ApiResults.Problem(400, "Unknown document type", "docType must be one of " + string.Join(", ", DocumentTypes.All) + ".");
        }

        return null;
    }

    public static async Task<IResult> Search(HttpContext context, IPassageIndex index, string? q, string? control, string? docType, int? limit, string? continuationToken, CancellationToken ct)
    {
        if (ApiResults.TryPaging(context, limit, continuationToken, out var offset, out var take) is { } bad)
        {
            return bad;
        }

        if (string.IsNullOrWhiteSpace(q))
        {
            return ApiResults.Problem(400, "Missing query", "Pass the search text as q.");
        }

        if (q.Length > 1000)
        {
            return ApiResults.Problem(400, "Query too long", "q is limited to 1000 characters.");
        }

        if (UnknownFilter(control, docType) is { } unknown)
        {
            return unknown;
        }

        var hits = await index.SearchAsync(new SearchQuery(q, control, docType, Math.Min(200, offset + take + 1)), ct).ConfigureAwait(false);
        var results = hits.Select(SearchResult.From);
        return ApiResults.Cached(context, ApiResults.Paginate(results, offset, take));
    }

    public static async Task<IResult> ExportSoa(HttpContext context, EvidenceService evidence, string? format, CancellationToken ct)
    {
        format = (format ?? "json").ToLowerInvariant();
        if (format is not ("json" or "md" or "csv"))
        {
            return ApiResults.Problem(400, "Invalid format", "format must be md, csv or json.");
        }

        var rows = await AimsEvidenceApi.BuildSoaAsync(evidence, ct).ConfigureAwait(false);
        var systems = (await evidence.Inventory.ListAsync(ct).ConfigureAwait(false)).Select(AiSystemView.From).ToArray();
        switch (format)
        {
            case "md":
                var md = new StringBuilder();
                md.AppendLine("# Statement of Applicability (draft)").AppendLine()
                    .AppendLine("ISO/IEC 42001 Annex A. Generated by Aims.Evidence; review every row before use.").AppendLine()
                    .AppendLine("| Control | Title | Applicable | Justification | Status | Implementation evidence |")
                    .AppendLine("|---|---|---|---|---|---|");
                foreach (var r in rows)
                {
                    md.Append("| ").Append(r.ControlId).Append(" | ").Append(AimsEvidenceApi.Md(r.Title)).Append(" | ").Append(r.Applicable).Append(" | ").Append(AimsEvidenceApi.Md(r.Justification))
                        .Append(" | ").Append(r.Status).Append(": ").Append(AimsEvidenceApi.Md(r.Reason)).Append(" | ").Append(r.Evidence.Count == 0 ? "-" : string.Join("<br>", r.Evidence.Select(AimsEvidenceApi.Md))).AppendLine(" |");
                }

                md.AppendLine().AppendLine("## AI systems").AppendLine()
                    .AppendLine("The AI-system inventory (ISO/IEC 42001 A.4.2, A.6): every AI system the documents describe, with the reviewer's edits.").AppendLine()
                    .AppendLine("| System | Purpose | Provider | Role | Unit | Stage | Risk | Cited in |")
                    .AppendLine("|---|---|---|---|---|---|---|---|");
                foreach (var a in systems)
                {
                    md.Append("| ").Append(AimsEvidenceApi.Md(a.Name)).Append(" | ").Append(AimsEvidenceApi.Md(a.Purpose ?? "-")).Append(" | ").Append(AimsEvidenceApi.Md(a.Provider ?? "-"))
                        .Append(" | ").Append(a.Role ?? "-").Append(" | ").Append(AimsEvidenceApi.Md(a.Unit ?? "-")).Append(" | ").Append(AimsEvidenceApi.Md(a.Lifecycle ?? "-"))
                        .Append(" | ").Append(AimsEvidenceApi.Md(a.RiskLevel ?? "-")).Append(" | ").Append(string.Join("<br>", a.Documents.Select(d => AimsEvidenceApi.Md(d.Citation)))).AppendLine(" |");
                }

                return ApiResults.CachedBytes(context, Encoding.UTF8.GetBytes(md.ToString()), "text/markdown; charset=utf-8");
            case "csv":
                var csv = new StringBuilder("control_id,title,objective,applicable,justification,status,reason,evidence\r\n");
                foreach (var r in rows)
                {
                    csv.AppendJoin(',', new[] { r.ControlId, r.Title, r.Objective, r.Applicable, r.Justification, r.Status, r.Reason, string.Join(" | ", r.Evidence) }.Select(AimsEvidenceApi.Csv)).Append("\r\n");
                }

                // The inventory in the same columns: the system's id, name and purpose; "AI system"; provider, role and unit; stage; risk; citations.
                foreach (var a in systems)
                {
                    var who = string.Join("; ", new[] { a.Provider is null ? null : "provider " + a.Provider, a.Role is null ? null : "role " + a.Role, a.Unit is null ? null : "unit " + a.Unit }.OfType<string>());
                    csv.AppendJoin(',', new[] { a.Id, a.Name, a.Purpose ?? string.Empty, "AI system", who, a.Lifecycle ?? string.Empty, a.RiskLevel ?? string.Empty, string.Join(" | ", a.Documents.Select(d => d.Citation)) }.Select(AimsEvidenceApi.Csv)).Append("\r\n");
                }

                return ApiResults.CachedBytes(context, Encoding.UTF8.GetBytes(csv.ToString()), "text/csv; charset=utf-8");
            default:
                return ApiResults.CachedBytes(context, JsonSerializer.SerializeToUtf8Bytes(new { standard = "ISO/IEC 42001:2023 Annex A", draft = true, controls = rows, aiSystems = systems }, AimsEvidenceApi.ExportJson), "application/json; charset=utf-8");
        }
    }

    /// <summary>The auditor's evidence pack (ZIP), read first and then streamed with the response body.</summary>
    public static async Task<IResult> ExportPack(EvidenceService evidence, CancellationToken ct)
    {
        var pack = await EvidencePackWriter.LoadAsync(evidence, ct).ConfigureAwait(false);
        return Results.Stream(stream => pack.WriteAsync(stream, ct), "application/zip", EvidencePackWriter.FileName);
    }

    public static async Task<IResult> ExportOscal(EvidenceService evidence, CancellationToken ct)
    {
        var doc = await AimsEvidenceApi.BuildOscalAsync(evidence, ct).ConfigureAwait(false);
        return Results.Text(doc.ToJsonString(AimsEvidenceApi.ExportJson), "application/json; charset=utf-8");
    }
}

/// <summary>
/// Query-string values for hosts that call <see cref="AimsQueries"/> without minimal-API parameter binding (the Azure
/// Functions triggers). Absent or empty values are null, as in minimal-API binding; a value that does not parse is a
/// 400 problem.
/// </summary>
public static class QueryArgs
{
    public static string? Text(HttpRequest request, string name)
    {
        ArgumentNullException.ThrowIfNull(request);
        var values = request.Query[name];
        return values.Count == 0 ? null : values.ToString();
    }

    public static IResult? TryInt(HttpRequest request, string name, out int? value)
    {
        value = null;
        var text = Text(request, name);
        if (string.IsNullOrEmpty(text))
        {
            return null;
        }

        if (!int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var parsed))
        {
            return ApiResults.Problem(StatusCodes.Status400BadRequest, "Invalid " + name, $"{name} must be an integer.");
        }

        value = parsed;
        return null;
    }

    public static IResult? TryBool(HttpRequest request, string name, out bool? value)
    {
        value = null;
        var text = Text(request, name);
        if (string.IsNullOrEmpty(text))
        {
            return null;
        }

        if (!bool.TryParse(text, out var parsed))
        {
            return ApiResults.Problem(StatusCodes.Status400BadRequest, "Invalid " + name, $"{name} must be true or false.");
        }

        value = parsed;
        return null;
    }
}
