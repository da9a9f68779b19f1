using System.Globalization;
using System.Security.Claims;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Cors.Infrastructure;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Aims.Evidence.Api;

/// <summary>Marks an endpoint whose body may exceed <see cref="AimsApiOptions.MaxJsonBodyBytes"/> (the upload enforces its own cap).</summary>
public sealed class LargeBodyMetadata
{
    public static LargeBodyMetadata Instance { get; } = new();
}

/// <summary>Rate limiting, CORS, security headers and body size limits of the API.</summary>
public static class ApiSecurity
{
    public const string CorsPolicy = "aims-dashboards";

    /// <summary>The dashboard's policy: only its own scripts, styles and API; no plugins, framing, base or foreign forms.</summary>
    public const string DashboardContentSecurityPolicy =
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
        "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

    /// <summary>API responses are data, never rendered: nothing may load from them and nobody may frame them.</summary>
    public const string ApiContentSecurityPolicy = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

    internal static IServiceCollection AddAimsSecurity(this IServiceCollection services)
    {
        services.AddCors();
        services.AddOptions<CorsOptions>().Configure<IOptions<AimsApiOptions>>((cors, api) =>
        {
            var origins = api.Value.CorsOrigins.Where(o => !string.IsNullOrWhiteSpace(o)).Select(o => o.Trim().TrimEnd('/')).ToArray();
            cors.AddPolicy(CorsPolicy, p =>
            {
                if (origins.Length > 0)
                {
                    p.WithOrigins(origins)
                        .WithMethods("GET", "POST", "PUT")
                        .WithHeaders(ApiKeyAuthenticationHandler.HeaderName, "Content-Type", "If-None-Match")
                        .WithExposedHeaders("ETag", "Retry-After", "Location")
                        .SetPreflightMaxAge(TimeSpan.FromMinutes(10));
                }
            });
        });

        services.AddRateLimiter(o =>
        {
            o.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            o.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, string>(Partition);
            o.OnRejected = OnRejectedAsync;
        });
        return services;
    }

    /// <summary>
    /// One window per authenticated key id (never the key itself), otherwise per client IP; health has its own
    /// per-IP window. Runs after authentication, so an invalid key cannot buy itself a fresh window.
    /// </summary>
    private static RateLimitPartition<string> Partition(HttpContext context)
    {
        var limits = context.RequestServices.GetRequiredService<IOptions<AimsApiOptions>>().Value.RateLimit;
        var ip = context.Connection.RemoteIpAddress?.ToString() ?? "unknown";
        var window = TimeSpan.FromSeconds(Math.Max(1, limits.WindowSeconds));
        if (context.Request.Path.StartsWithSegments(AimsEvidenceApi.Prefix + "/health", StringComparison.OrdinalIgnoreCase))
        {
            return limits.HealthPermitLimit <= 0
                ? RateLimitPartition.GetNoLimiter("health")
                : RateLimitPartition.GetFixedWindowLimiter("health|" + ip, _ => Window(limits.HealthPermitLimit, 0, window));
        }

        if (limits.PermitLimit <= 0)
        {
            return RateLimitPartition.GetNoLimiter("off");
        }

        var keyId = context.User.Identity?.IsAuthenticated == true ? context.User.FindFirstValue(ClaimTypes.NameIdentifier) : null;
        var partition = keyId is null ? "ip|" + ip : "key|" + keyId;
        return RateLimitPartition.GetFixedWindowLimiter(partition, _ => Window(limits.PermitLimit, limits.QueueLimit, window));
    }

    private static FixedWindowRateLimiterOptions Window(int permits, int queue, TimeSpan window) => new()
    {
        PermitLimit = permits,
        Window = window,
        QueueLimit = Math.Max(0, queue),
        QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
        AutoReplenishment = true,
    };

    private static async ValueTask OnRejectedAsync(OnRejectedContext rejected, CancellationToken cancellationToken)
    {
        var context = rejected.HttpContext;
        var limits = context.RequestServices.GetRequiredService<IOptions<AimsApiOptions>>().Value.RateLimit;
        var retryAfter = rejected.Lease.TryGetMetadata(MetadataName.RetryAfter, out var after) ? after : TimeSpan.FromSeconds(Math.Max(1, limits.WindowSeconds));
        var seconds = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds));
        context.Response.StatusCode = StatusCodes.Status429TooManyRequests;
        context.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
        await ApiResults.Problem(StatusCodes.Status429TooManyRequests, "Too many requests", $"The rate limit was reached; retry after {seconds} s.")
            .ExecuteAsync(context).ConfigureAwait(false);
    }

    /// <summary>Security headers on every response; evidence is never stored by caches (<c>no-store</c> on the API).</summary>
    internal static IApplicationBuilder UseSecurityHeaders(this IApplicationBuilder app) => app.Use(async (context, next) =>
    {
        var isApi = context.Request.Path.StartsWithSegments(AimsEvidenceApi.Prefix, StringComparison.OrdinalIgnoreCase)
            || context.Request.Path.StartsWithSegments("/openapi", StringComparison.OrdinalIgnoreCase);
        context.Response.OnStarting(() =>
        {
            var headers = context.Response.Headers;
            headers.ContentSecurityPolicy = isApi ? ApiContentSecurityPolicy : DashboardContentSecurityPolicy;
            headers.XContentTypeOptions = "nosniff";
            headers.XFrameOptions = "DENY";
            headers["Referrer-Policy"] = "no-referrer";
            headers["Cross-Origin-Opener-Policy"] = "same-origin";
            headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=(), payment=()";
            if (isApi)
            {
                headers.CacheControl = "no-store";
                headers.Pragma = "no-cache";
            }

            return Task.CompletedTask;
        });
        await next(context).ConfigureAwait(false);
    });

    /// <summary>
    /// Caps the body of every endpoint but the upload at <see cref="AimsApiOptions.MaxJsonBodyBytes"/>: a declared
    /// larger Content-Length is a 413 problem at once, and Kestrel stops a longer chunked body at the same size.
    /// </summary>
    internal static IApplicationBuilder UseBodySizeLimit(this IApplicationBuilder app) => app.Use(async (context, next) =>
    {
        if (context.GetEndpoint()?.Metadata.GetMetadata<LargeBodyMetadata>() is null)
        {
            var max = context.RequestServices.GetRequiredService<IOptions<AimsApiOptions>>().Value.MaxJsonBodyBytes;
            if (context.Request.ContentLength > max)
            {
                await ApiResults.Problem(StatusCodes.Status413PayloadTooLarge, "Request body too large", $"The largest accepted request body is {max} bytes.")
                    .ExecuteAsync(context).ConfigureAwait(false);
                return;
            }

            if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } size)
            {
                size.MaxRequestBodySize = max;
            }
        }

        await next(context).ConfigureAwait(false);
    });
}
