using System.Security.Claims;
using Aims.Evidence.Core.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Aims.Evidence.Api;

/// <summary>An API key as the API shows it: its id and role, never the key.</summary>
public sealed record ApiKeyView(string Id, string Role)
{
    public static ApiKeyView From(ApiKeyRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        return new(record.Id, record.Role.ToString().ToLowerInvariant());
    }
}

/// <summary>
/// <c>GET /me</c> (reader: the calling key's id and role, so a client such as the dashboard shows only what the role
/// may do) and <c>DELETE /keys/{id}</c> (admin: revokes a key, audited), with handlers both hosts share.
/// </summary>
public static partial class AimsEvidenceApi
{
    private static IResult GetMe(HttpContext context)
    {
        var user = context.User;
        var role = Enum.GetValues<ApiRole>().Where(r => user.IsInRole(r.ToString().ToLowerInvariant())).DefaultIfEmpty(ApiRole.Reader).Max();
        return Me(new ApiKeyRecord(Actor(user), role, DateTimeOffset.UnixEpoch));
    }

    /// <summary><c>GET /me</c> in any host, for the key the host authenticated.</summary>
    public static IResult Me(ApiKeyRecord key) => Results.Ok(ApiKeyView.From(key));

    private static Task<IResult> RevokeKey(HttpContext context, IReviewStore reviews, string id, CancellationToken ct) =>
        RevokeKeyAsync(reviews, id, Actor(context.User), ct);

    /// <summary><c>DELETE /keys/{id}</c> in any host: the revoked key's id and role, or a 404 problem.</summary>
    public static async Task<IResult> RevokeKeyAsync(IReviewStore reviews, string id, string actor, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(reviews);
        var revoked = await reviews.RevokeApiKeyAsync(id, actor, ct).ConfigureAwait(false);
        return revoked is null
            ? ApiResults.Problem(StatusCodes.Status404NotFound, "No such key", $"No API key has the id '{id}'.")
            : Results.Ok(ApiKeyView.From(revoked));
    }

    private static void MapKeyRoutes(RouteGroupBuilder api)
    {
        api.MapGet("/me", GetMe).WithName("getMe").Produces<ApiKeyView>();
        api.MapDelete("/keys/{id}", RevokeKey).WithName("revokeKey").RequireAuthorization(ApiPolicies.Admin).Produces<ApiKeyView>().ProducesProblem(404);
    }
}
