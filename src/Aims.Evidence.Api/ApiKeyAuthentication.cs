using System.Security.Claims;
using System.Text.Encodings.Web;
using Aims.Evidence.Core.Storage;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Aims.Evidence.Api;

/// <summary>Authenticates the <c>X-Api-Key</c> header against the hashed keys in the store.</summary>
public sealed class ApiKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "ApiKey";

    public const string HeaderName = "X-Api-Key";

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (!Request.Headers.TryGetValue(HeaderName, out var values) || string.IsNullOrWhiteSpace(values.ToString()))
        {
            return AuthenticateResult.NoResult();
        }

        var store = Context.RequestServices.GetRequiredService<IReviewStore>();
        var record = await store.FindApiKeyAsync(ApiKeys.Hash(values.ToString().Trim()), Context.RequestAborted).ConfigureAwait(false);
        if (record is null)
        {
            return AuthenticateResult.Fail("unknown API key");
        }

        var claims = new List<Claim> { new(ClaimTypes.NameIdentifier, record.Id), new(ClaimTypes.Name, record.Id) };
        foreach (var role in Enum.GetValues<ApiRole>().Where(r => r <= record.Role))
        {
            claims.Add(new Claim(ClaimTypes.Role, role.ToString().ToLowerInvariant()));
        }

        var identity = new ClaimsIdentity(claims, SchemeName);
        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName));
    }
}

/// <summary>Authorization policy names: roles are cumulative (reader &lt; reviewer &lt; admin).</summary>
public static class ApiPolicies
{
    public const string Reader = "reader";
    public const string Reviewer = "reviewer";
    public const string Admin = "admin";
}

/// <summary>
/// The API's key check for hosts without ASP.NET Core authentication middleware (the Functions app): the same header,
/// hashing and cumulative roles as <see cref="ApiKeyAuthenticationHandler"/> with the role policies, and the same
/// answers: 401 without a key or with an unknown key, 403 when the key's role is too low, each as the problem details
/// body the API's status code pages write.
/// </summary>
public static class ApiKeyGate
{
    public static async Task<(ApiKeyRecord? Key, IResult? Denied)> AuthorizeAsync(
        HttpRequest request,
        Func<string, CancellationToken, Task<ApiKeyRecord?>> findByHash,
        ApiRole required,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(findByHash);
        var value = request.Headers[ApiKeyAuthenticationHandler.HeaderName].ToString();
        if (string.IsNullOrWhiteSpace(value))
        {
            return (null, Results.Problem(statusCode: StatusCodes.Status401Unauthorized));
        }

        var record = await findByHash(ApiKeys.Hash(value.Trim()), cancellationToken).ConfigureAwait(false);
        if (record is null)
        {
            return (null, Results.Problem(statusCode: StatusCodes.Status401Unauthorized));
        }

        return record.Role < required ? (record, Results.Problem(statusCode: StatusCodes.Status403Forbidden)) : (record, null);
    }
}
