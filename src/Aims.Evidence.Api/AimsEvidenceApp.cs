using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.FileProviders;

namespace Aims.Evidence.Api;

public static class AimsEvidenceApp
{
    /// <summary>The dashboard's Content-Security-Policy (see <see cref="ApiSecurity.DashboardContentSecurityPolicy"/>).</summary>
    public const string ContentSecurityPolicy = ApiSecurity.DashboardContentSecurityPolicy;

    /// <summary>
    /// The middleware in front of the endpoints: problem+json errors (never a stack trace), security headers, the
    /// dashboard's static files (open), then routing, CORS, authentication, rate limiting (per key, after
    /// authentication), the body size cap and authorization. Call before <see cref="AimsEvidenceApi.MapAimsEvidenceApi"/>.
    /// </summary>
    public static IApplicationBuilder UseAimsEvidenceApi(this IApplicationBuilder app)
    {
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.UseSecurityHeaders();

        var files = new EmbeddedFileProvider(typeof(AimsEvidenceApp).Assembly, "Aims.Evidence.Api.wwwroot");
        app.UseDefaultFiles(new DefaultFilesOptions { FileProvider = files });
        app.UseStaticFiles(new StaticFileOptions { FileProvider = files });
        app.UseRouting();
        app.UseCors(ApiSecurity.CorsPolicy);
        app.UseAuthentication();
        app.UseRateLimiter();
        app.UseBodySizeLimit();
        app.UseAuthorization();
        return app;
    }
}
