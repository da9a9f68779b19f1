using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.FileProviders;

namespace Aims.Evidence.Api;

public static class AimsEvidenceApp
{
    public const string ContentSecurityPolicy =
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
        "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

    /// <summary>
    /// The middleware in front of the endpoints: problem+json errors (never a stack trace), security headers, the
    /// dashboard's static files (open), then routing, authentication and authorization. Call before
    /// <see cref="AimsEvidenceApi.MapAimsEvidenceApi"/>.
    /// </summary>
    public static IApplicationBuilder UseAimsEvidenceApi(this IApplicationBuilder app)
    {
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.Use(async (context, next) =>
        {
            var headers = context.Response.Headers;
            headers.ContentSecurityPolicy = ContentSecurityPolicy;
            headers.XContentTypeOptions = "nosniff";
            headers["Referrer-Policy"] = "no-referrer";
            headers.XFrameOptions = "DENY";
            await next(context).ConfigureAwait(false);
        });

        var files = new EmbeddedFileProvider(typeof(AimsEvidenceApp).Assembly, "Aims.Evidence.Api.wwwroot");
        app.UseDefaultFiles(new DefaultFilesOptions { FileProvider = files });
        app.UseStaticFiles(new StaticFileOptions { FileProvider = files });
        app.UseRouting();
        app.UseAuthentication();
        app.UseAuthorization();
        return app;
    }
}
