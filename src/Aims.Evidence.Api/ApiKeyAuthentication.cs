using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using Aims.Evidence.Core.Storage;
using Microsoft.AspNetCore.Authentication;
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

    public static string Hash(string key) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)));

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (!Request.Headers.TryGetValue(HeaderName, out var values) || string.IsNullOrWhiteSpace(values.ToString()))
        {
            return AuthenticateResult.NoResult();
        }

        var store = Context.RequestServices.GetRequiredService<IReviewStore>();
        var record = await store.FindApiKeyAsync(Hash(values.ToString().Trim()), Context.RequestAborted).ConfigureAwait(false);
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
