using Aims.Evidence.Api;
using Aims.Evidence.Core.Services;
using Aims.Evidence.Core.Storage;
using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;

namespace Aims.Evidence.Functions;

/// <summary>
/// The read routes of the REST API as HTTP functions: <c>GET /api/v1/...</c> (host.json keeps the default route
/// prefix <c>api</c>), each a thin adapter that parses the query string with <see cref="QueryArgs"/> and calls the
/// same <see cref="AimsQueries"/> method as the ASP.NET Core endpoints, so both hosts answer with the same JSON.
/// The returned <see cref="IResult"/> is executed against the request's HttpContext by the ASP.NET Core integration.
/// <para>
/// Authorization is the Functions host's: <see cref="AuthorizationLevel.Function"/> (a function or host key in
/// <c>x-functions-key</c> or <c>?code=</c>). Every route here is read-only (the reader role), so <c>X-Api-Key</c> is
/// not checked; the write routes (<see cref="WriteApiFunctions"/>) check it too. See docs/DEPLOY.md.
/// </para>
/// </summary>
public sealed class ReadApiFunctions(EvidenceService evidence, IEvidenceStore store, IPassageIndex index)
{
    [Function("ListControls")]
    public Task<IResult> ListControls(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "v1/controls")] HttpRequest request,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        return QueryArgs.TryInt(request, "limit", out var limit) is { } bad
            ? Task.FromResult(bad)
            : AimsQueries.GetControls(request.HttpContext, evidence, limit, QueryArgs.Text(request, "continuationToken"), QueryArgs.Text(request, "kind"), cancellationToken);
    }

    [Function("GetControl")]
    public Task<IResult> GetControl(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "v1/controls/{id}")] HttpRequest request,
        string id,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        return AimsQueries.GetControl(request.HttpContext, evidence, id, cancellationToken);
    }

    [Function("ListGaps")]
    public Task<IResult> ListGaps(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "v1/gaps")] HttpRequest request,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        return QueryArgs.TryInt(request, "limit", out var limit) is { } bad
            ? Task.FromResult(bad)
            : AimsQueries.GetGaps(
                request.HttpContext, evidence, limit, QueryArgs.Text(request, "continuationToken"),
                QueryArgs.Text(request, "group"), QueryArgs.Text(request, "status"), QueryArgs.Text(request, "docType"), cancellationToken);
    }

    [Function("GetCoverage")]
    public Task<IResult> GetCoverage(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "v1/coverage")] HttpRequest request,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        return AimsQueries.GetCoverage(request.HttpContext, evidence, cancellationToken);
    }

    [Function("ListDocuments")]
    public Task<IResult> ListDocuments(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "v1/documents")] HttpRequest request,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (QueryArgs.TryInt(request, "limit", out var limit) is { } badLimit)
        {
            return Task.FromResult(badLimit);
        }

        return QueryArgs.TryBool(request, "all", out var all) is { } badAll
            ? Task.FromResult(badAll)
            : AimsQueries.GetDocuments(request.HttpContext, store, limit, QueryArgs.Text(request, "continuationToken"), all, cancellationToken);
    }

    [Function("GetDocument")]
    public Task<IResult> GetDocument(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "v1/documents/{id}")] HttpRequest request,
        string id,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        return AimsQueries.GetDocument(request.HttpContext, store, id, cancellationToken);
    }

    [Function("Search")]
    public Task<IResult> Search(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "v1/search")] HttpRequest request,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        return QueryArgs.TryInt(request, "limit", out var limit) is { } bad
            ? Task.FromResult(bad)
            : AimsQueries.Search(
                request.HttpContext, index, QueryArgs.Text(request, "q"), QueryArgs.Text(request, "control"), QueryArgs.Text(request, "docType"),
                limit, QueryArgs.Text(request, "continuationToken"), cancellationToken);
    }

    [Function("ExportSoa")]
    public Task<IResult> ExportSoa(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "v1/exports/soa")] HttpRequest request,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        return AimsQueries.ExportSoa(request.HttpContext, evidence, QueryArgs.Text(request, "format"), cancellationToken);
    }

    [Function("ExportOscal")]
    public Task<IResult> ExportOscal(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "v1/exports/oscal")] HttpRequest request,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        return AimsQueries.ExportOscal(evidence, cancellationToken);
    }

    [Function("ExportPack")]
    public Task<IResult> ExportPack(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "v1/exports/pack")] HttpRequest request,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        return AimsQueries.ExportPack(evidence, cancellationToken);
    }

    [Function("ListFrameworks")]
    public static IResult ListFrameworks(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "v1/frameworks")] HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return FrameworkQueries.GetFrameworks(request.HttpContext);
    }

    [Function("GetFrameworkCoverage")]
    public Task<IResult> GetFrameworkCoverage(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "v1/frameworks/{id}/coverage")] HttpRequest request,
        string id,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        return FrameworkQueries.GetFrameworkCoverage(request.HttpContext, evidence, id, QueryArgs.Text(request, "status"), cancellationToken);
    }
}
