using Aims.Evidence.Api;
using Aims.Evidence.Azure.Tables;
using Aims.Evidence.Core.Storage;
using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;

namespace Aims.Evidence.Functions;

/// <summary>
/// <c>GET /api/v1/me</c> (reader: the calling key's id and role) and <c>DELETE /api/v1/keys/{id}</c> (admin: revokes
/// a key in Table Storage, audited), behind the same two gates as <see cref="WriteApiFunctions"/> (the function key,
/// then the API's <c>X-Api-Key</c> through <see cref="ApiKeyGate"/>) and with the API's own handlers. Keys are looked
/// up on every request, so a revoked key gets 401 from its next request on.
/// </summary>
public sealed class KeyFunctions(TableApiKeyStore keys, IReviewStore reviews)
{
    [Function("GetMe")]
    public async Task<IResult> GetMe(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "v1/me")] HttpRequest request,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var (key, denied) = await ApiKeyGate.AuthorizeAsync(request, keys.FindAsync, ApiRole.Reader, cancellationToken).ConfigureAwait(false);
        return denied ?? AimsEvidenceApi.Me(key!);
    }

    [Function("RevokeKey")]
    public async Task<IResult> RevokeKey(
        [HttpTrigger(AuthorizationLevel.Function, "delete", Route = "v1/keys/{id}")] HttpRequest request,
        string id,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var (key, denied) = await ApiKeyGate.AuthorizeAsync(request, keys.FindAsync, ApiRole.Admin, cancellationToken).ConfigureAwait(false);
        return denied ?? await AimsEvidenceApi.RevokeKeyAsync(reviews, id, key!.Id, cancellationToken).ConfigureAwait(false);
    }
}
