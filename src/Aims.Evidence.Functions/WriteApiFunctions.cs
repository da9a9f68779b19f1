using System.Security.Cryptography;
using System.Text.Json;
using Aims.Evidence.Api;
using Aims.Evidence.Azure.Configuration;
using Aims.Evidence.Azure.Search;
using Aims.Evidence.Azure.Tables;
using Aims.Evidence.Core.Catalog;
using Aims.Evidence.Core.Services;
using Aims.Evidence.Core.Storage;
using Aims.Evidence.Core.Tasks;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Aims.Evidence.Functions;

/// <summary>
/// The routes of the REST API that need an <c>X-Api-Key</c>, as HTTP functions with the API's contract:
/// <c>POST /api/v1/documents</c> (reviewer) puts the upload into the inbox blob container, where the Event Grid blob
/// trigger ingests it like any other blob; <c>POST /api/v1/mappings/{id}/review</c> (reviewer) accepts or rejects a
/// mapping and <c>POST /api/v1/passages/{id}/mappings</c> (reviewer) adds a manual one in the Table store (both
/// refresh the passage in AI Search when configured); <c>PUT /api/v1/documents/{id}/effective-date</c> (reviewer)
/// sets a document's effective date (and refreshes its passages in AI Search); <c>GET /api/v1/audit-log</c> (reader)
/// pages the audit log; <c>POST /api/v1/keys</c> (admin) creates an API key (audited). The request handling is the
/// API's own (<see cref="AimsEvidenceApi"/>'s shared handlers over Core's <see cref="IReviewStore"/>, here
/// <see cref="TableReviewStore"/>), so both hosts answer alike.
/// <para>
/// Two gates: the Functions host's function key (<see cref="AuthorizationLevel.Function"/>, as on the read routes)
/// admits the caller to the app, and the API's <c>X-Api-Key</c> gives the role and the actor, checked by the API's own
/// <see cref="ApiKeyGate"/> against hashed keys in Table Storage (<see cref="TableApiKeyStore"/>): 401 without a known
/// key, 403 below the route's role, as in the API. The upload is read and checked by the API's
/// <see cref="AimsEvidenceApi.ReadUploadAsync"/>, so limits and problems are the same in both hosts.
/// </para>
/// </summary>
public sealed class WriteApiFunctions(
    BlobServiceClient blobs,
    TableApiKeyStore keys,
    IReviewStore reviews,
    IsoCatalog catalog,
    AimsAzureOptions options,
    IOptions<AimsApiOptions> apiOptions,
    IOptions<JsonOptions> json,
    SearchIndexer? indexer = null,
    ReviewLearningService? learning = null,
    IApplicabilityStore? applicability = null,
    IOwnerStore? owners = null)
{
    [Function("UploadDocument")]
    public async Task<IResult> UploadDocument(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = "v1/documents")] HttpRequest request,
        CancellationToken cancellationToken)
    {
        return await AuthorizedAsync(request, ApiRole.Reviewer, async key =>
        {
            // The API's endpoint declares multipart/form-data (Accepts), so ASP.NET Core answers 415 to anything else.
            if (!request.HasFormContentType)
            {
                return Results.Problem(statusCode: StatusCodes.Status415UnsupportedMediaType);
            }

            var (parts, problem) = await AimsEvidenceApi.ReadUploadAsync(request.HttpContext, apiOptions.Value, cancellationToken).ConfigureAwait(false);
            if (parts is null)
            {
                return problem!;
            }

            // The same name rules as the API's inbox folder. A blob of the same name is replaced: the trigger then stores
            // a new version of that document, as the folder host does with its file. Every file of the form is kept.
            var container = blobs.GetBlobContainerClient(options.InboxContainer);
            await container.CreateIfNotExistsAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
            var files = new List<UploadedFile>(parts.Count);
            var contents = new List<MemoryStream>(parts.Count);
            try
            {
                foreach (var part in parts)
                {
                    var content = new MemoryStream(checked((int)part.File.Length));
                    contents.Add(content);
                    await using (var input = part.File.OpenReadStream())
                    {
                        await input.CopyToAsync(content, cancellationToken).ConfigureAwait(false);
                    }

                    files.Add(new UploadedFile(part.FileName, part.File.Length, Convert.ToHexStringLower(SHA256.HashData(content.GetBuffer().AsSpan(0, (int)content.Length)))));
                }

                await AimsEvidenceApi.AuditUploadsAsync(reviews, key.Id, files, cancellationToken).ConfigureAwait(false);
                for (var i = 0; i < parts.Count; i++)
                {
                    contents[i].Position = 0;
                    await container.GetBlobClient(files[i].FileName).UploadAsync(
                        contents[i],
                        new BlobUploadOptions
                        {
                            HttpHeaders = new BlobHttpHeaders { ContentType = string.IsNullOrEmpty(parts[i].File.ContentType) ? "application/octet-stream" : parts[i].File.ContentType },
                            Metadata = new Dictionary<string, string> { ["uploadedby"] = key.Id, ["sha256"] = files[i].Sha256 },
                        },
                        cancellationToken).ConfigureAwait(false);
                }
            }
            finally
            {
                foreach (var content in contents)
                {
                    await content.DisposeAsync().ConfigureAwait(false);
                }
            }

            return AimsEvidenceApi.UploadAccepted(files);
        }, cancellationToken).ConfigureAwait(false);
    }

    [Function("ReviewMapping")]
    public async Task<IResult> ReviewMapping(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = "v1/mappings/{id}/review")] HttpRequest request,
        string id,
        CancellationToken cancellationToken)
    {
        return await AuthorizedAsync(request, ApiRole.Reviewer, async key =>
        {
            var body = await ReadJsonAsync<ReviewRequest>(request, cancellationToken).ConfigureAwait(false);
            var result = await AimsEvidenceApi.ReviewMappingAsync(id, body, key.Id, reviews, cancellationToken).ConfigureAwait(false);
            LearnFrom(result, StatusCodes.Status200OK);

            // The index carries the passage's control ids and mappings: keep it in step with the review.
            return await RefreshIndexAfterAsync(result, StatusCodes.Status200OK, TableEvidenceStore.TrySplitMappingId(id, out var passageId, out var documentId)
                ? ix => ix.RefreshPassageAsync(documentId, passageId, cancellationToken)
                : null).ConfigureAwait(false);
        }, cancellationToken).ConfigureAwait(false);
    }

    [Function("CreateKey")]
    public async Task<IResult> CreateKey(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = "v1/keys")] HttpRequest request,
        CancellationToken cancellationToken)
    {
        return await AuthorizedAsync(request, ApiRole.Admin, async key =>
        {
            var body = await ReadJsonAsync<CreateKeyRequest>(request, cancellationToken).ConfigureAwait(false);
            return await AimsEvidenceApi.CreateKeyAsync(reviews, body, key.Id, cancellationToken).ConfigureAwait(false);
        }, cancellationToken).ConfigureAwait(false);
    }

    [Function("SetEffectiveDate")]
    public async Task<IResult> SetEffectiveDate(
        [HttpTrigger(AuthorizationLevel.Function, "put", Route = "v1/documents/{id}/effective-date")] HttpRequest request,
        string id,
        CancellationToken cancellationToken)
    {
        return await AuthorizedAsync(request, ApiRole.Reviewer, async key =>
        {
            var body = await ReadJsonAsync<EffectiveDateRequest>(request, cancellationToken).ConfigureAwait(false);
            var result = await AimsEvidenceApi.SetEffectiveDateAsync(reviews, id, body, key.Id, cancellationToken).ConfigureAwait(false);

            // Every indexed passage carries the document's effective date.
            return await RefreshIndexAfterAsync(result, StatusCodes.Status200OK, ix => ix.RefreshDocumentAsync(id, cancellationToken)).ConfigureAwait(false);
        }, cancellationToken).ConfigureAwait(false);
    }

    [Function("SetApplicability")]
    public async Task<IResult> SetApplicability(
        [HttpTrigger(AuthorizationLevel.Function, "put", Route = "v1/controls/{id}/applicability")] HttpRequest request,
        string id,
        CancellationToken cancellationToken)
    {
        return await AuthorizedAsync(request, ApiRole.Reviewer, async key =>
        {
            var body = await ReadJsonAsync<ApplicabilityRequest>(request, cancellationToken).ConfigureAwait(false);
            return await AimsEvidenceApi.SetApplicabilityAsync(applicability, catalog, id, body, key.Id, cancellationToken).ConfigureAwait(false);
        }, cancellationToken).ConfigureAwait(false);
    }

    [Function("SetOwner")]
    public async Task<IResult> SetOwner(
        [HttpTrigger(AuthorizationLevel.Function, "put", Route = "v1/controls/{id}/owner")] HttpRequest request,
        string id,
        CancellationToken cancellationToken)
    {
        return await AuthorizedAsync(request, ApiRole.Reviewer, async key =>
        {
            var body = await ReadJsonAsync<OwnerRequest>(request, cancellationToken).ConfigureAwait(false);
            return await AimsEvidenceApi.SetOwnerAsync(owners, catalog, id, body, key.Id, cancellationToken).ConfigureAwait(false);
        }, cancellationToken).ConfigureAwait(false);
    }

    [Function("ClearOwner")]
    public async Task<IResult> ClearOwner(
        [HttpTrigger(AuthorizationLevel.Function, "delete", Route = "v1/controls/{id}/owner")] HttpRequest request,
        string id,
        CancellationToken cancellationToken)
    {
        return await AuthorizedAsync(request, ApiRole.Reviewer, key => AimsEvidenceApi.ClearOwnerAsync(owners, catalog, id, key.Id, cancellationToken), cancellationToken).ConfigureAwait(false);
    }

    [Function("ListTasks")]
    public async Task<IResult> ListTasks(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "v1/tasks")] HttpRequest request,
        CancellationToken cancellationToken)
    {
        return await AuthorizedAsync(request, ApiRole.Reader, _ =>
        {
            var services = request.HttpContext.RequestServices;
            return AimsEvidenceApi.ListTasksAsync(
                services.GetRequiredService<EvidenceService>(), services.GetRequiredService<TimeProvider>(), services.GetService<IOptions<TaskOptions>>()?.Value,
                QueryArgs.Text(request, "status"), cancellationToken);
        }, cancellationToken).ConfigureAwait(false);
    }

    [Function("ListAiSystems")]
    public async Task<IResult> ListAiSystems(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "v1/ai-systems")] HttpRequest request,
        CancellationToken cancellationToken)
    {
        return await AuthorizedAsync(request, ApiRole.Reader, _ => AimsEvidenceApi.ListAiSystemsAsync(request.HttpContext, Evidence(request), cancellationToken), cancellationToken).ConfigureAwait(false);
    }

    [Function("GetAiSystem")]
    public async Task<IResult> GetAiSystem(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "v1/ai-systems/{id}")] HttpRequest request,
        string id,
        CancellationToken cancellationToken)
    {
        return await AuthorizedAsync(request, ApiRole.Reader, _ => AimsEvidenceApi.GetAiSystemAsync(request.HttpContext, Evidence(request), id, cancellationToken), cancellationToken).ConfigureAwait(false);
    }

    [Function("AddAiSystem")]
    public async Task<IResult> AddAiSystem(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = "v1/ai-systems")] HttpRequest request,
        CancellationToken cancellationToken)
    {
        return await AuthorizedAsync(request, ApiRole.Reviewer, async key =>
        {
            var body = await ReadJsonAsync<AiSystemAddRequest>(request, cancellationToken).ConfigureAwait(false);
            return await AimsEvidenceApi.AddAiSystemAsync(Evidence(request), body, key.Id, cancellationToken).ConfigureAwait(false);
        }, cancellationToken).ConfigureAwait(false);
    }

    [Function("EditAiSystem")]
    public async Task<IResult> EditAiSystem(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = "v1/ai-systems/{id}/edits")] HttpRequest request,
        string id,
        CancellationToken cancellationToken)
    {
        return await AuthorizedAsync(request, ApiRole.Reviewer, async key =>
        {
            var body = await ReadJsonAsync<AiSystemEditRequest>(request, cancellationToken).ConfigureAwait(false);
            return await AimsEvidenceApi.EditAiSystemAsync(Evidence(request), id, body, key.Id, cancellationToken).ConfigureAwait(false);
        }, cancellationToken).ConfigureAwait(false);
    }

    private static EvidenceService Evidence(HttpRequest request) => request.HttpContext.RequestServices.GetRequiredService<EvidenceService>();

    [Function("AddManualMapping")]
    public async Task<IResult> AddManualMapping(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = "v1/passages/{id}/mappings")] HttpRequest request,
        string id,
        CancellationToken cancellationToken)
    {
        return await AuthorizedAsync(request, ApiRole.Reviewer, async key =>
        {
            var body = await ReadJsonAsync<ManualMappingRequest>(request, cancellationToken).ConfigureAwait(false);
            var result = await AimsEvidenceApi.AddManualMappingAsync(reviews, catalog, id, body, key.Id, cancellationToken).ConfigureAwait(false);
            LearnFrom(result, StatusCodes.Status201Created);

            // The index carries the passage's control ids and mappings: add the new one.
            return await RefreshIndexAfterAsync(result, StatusCodes.Status201Created, TableEvidenceStore.TrySplitPassageId(id, out var documentId)
                ? ix => ix.RefreshPassageAsync(documentId, id, cancellationToken)
                : null).ConfigureAwait(false);
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary><c>GET /api/v1/audit-log</c>: the reader role, as in the API (the audit names actors, so it needs a key).</summary>
    [Function("AuditLog")]
    public async Task<IResult> AuditLog(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "v1/audit-log")] HttpRequest request,
        CancellationToken cancellationToken)
    {
        return await AuthorizedAsync(request, ApiRole.Reader, async _ =>
        {
            return QueryArgs.TryInt(request, "limit", out var limit) is { } bad
                ? bad
                : await AimsEvidenceApi.GetAuditLog(request.HttpContext, reviews, limit, QueryArgs.Text(request, "continuationToken"), cancellationToken).ConfigureAwait(false);
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The API's <c>X-Api-Key</c> gate (401 without a known key, 403 below <paramref name="role"/>), then the route.</summary>
    private async Task<IResult> AuthorizedAsync(HttpRequest request, ApiRole role, Func<ApiKeyRecord, Task<IResult>> route, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var (key, denied) = await ApiKeyGate.AuthorizeAsync(request, keys.FindAsync, role, cancellationToken).ConfigureAwait(false);
        return denied ?? await route(key!).ConfigureAwait(false);
    }

    /// <summary>
    /// After a write route: when it answered <paramref name="success"/> and an Azure AI Search index is configured,
    /// <paramref name="refresh"/> brings the index in step (null when the id does not name an indexed item).
    /// </summary>
    /// <summary>After a successful decision, the background re-scoring of similar passages (as in <c>aims serve</c>).</summary>
    private void LearnFrom(IResult result, int success)
    {
        if (result is IStatusCodeHttpResult { StatusCode: var status } && status == success && apiOptions.Value.LearnFromReviews)
        {
            learning?.Request();
        }
    }

    private async Task<IResult> RefreshIndexAfterAsync(IResult result, int success, Func<SearchIndexer, Task>? refresh)
    {
        if (indexer is not null && refresh is not null && result is IStatusCodeHttpResult { StatusCode: var status } && status == success)
        {
            await refresh(indexer).ConfigureAwait(false);
        }

        return result;
    }

    private async Task<T?> ReadJsonAsync<T>(HttpRequest request, CancellationToken cancellationToken)
        where T : class
    {
        try
        {
            return request.ContentLength == 0 ? null : await request.ReadFromJsonAsync<T>(json.Value.SerializerOptions, cancellationToken).ConfigureAwait(false);
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
