using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Aims.Evidence.Api;

/// <summary>A page of items with an opaque token for the next page (null on the last page).</summary>
public sealed record Page<T>(IReadOnlyList<T> Items, string? ContinuationToken, int Limit);

/// <summary>Paging, ETags and problem responses shared by the endpoints.</summary>
public static class ApiResults
{
    /// <summary>Parses <c>limit</c> and <c>continuationToken</c> (base64url of "o:OFFSET"); a problem result when either is invalid.</summary>
    public static IResult? TryPaging(HttpContext context, int? limit, string? continuationToken, out int offset, out int take)
    {
        ArgumentNullException.ThrowIfNull(context);
        var options = context.RequestServices.GetRequiredService<IOptions<AimsApiOptions>>().Value;
        offset = 0;
        take = limit ?? options.DefaultPageSize;
        if (take < 1 || take > options.MaxPageSize)
        {
            return Problem(StatusCodes.Status400BadRequest, "Invalid limit", $"limit must be between 1 and {options.MaxPageSize}.");
        }

        if (string.IsNullOrEmpty(continuationToken))
        {
            return null;
        }

        if (!TryDecodeToken(continuationToken, out offset))
        {
            return Problem(StatusCodes.Status400BadRequest, "Invalid continuation token", "The continuationToken is malformed; use the value returned by the previous page.");
        }

        return null;
    }

    public static string EncodeToken(long value) =>
        System.Buffers.Text.Base64Url.EncodeToString(Encoding.ASCII.GetBytes("o:" + value.ToString(CultureInfo.InvariantCulture)));

    public static bool TryDecodeToken(string token, out int offset)
    {
        offset = 0;
        try
        {
            if (token.Length > 64)
            {
                return false;
            }

            var padded = token.Replace('-', '+').Replace('_', '/');
            padded += new string('=', (4 - (padded.Length % 4)) % 4);
            var text = Encoding.ASCII.GetString(Convert.FromBase64String(padded));
            return text.StartsWith("o:", StringComparison.Ordinal)
                && int.TryParse(text.AsSpan(2), NumberStyles.None, CultureInfo.InvariantCulture, out offset)
                && offset >= 0;
        }
        catch (FormatException)
        {
            return false;
        }
    }

    public static Page<T> Paginate<T>(IEnumerable<T> source, int offset, int take)
    {
        var items = source.Skip(offset).Take(take + 1).ToList();
        var more = items.Count > take;
        if (more)
        {
            items.RemoveAt(items.Count - 1);
        }

        return new Page<T>(items, more ? EncodeToken(offset + take) : null, take);
    }

    /// <summary>JSON with an ETag (hash of the body); 304 when If-None-Match matches.</summary>
    public static IResult Cached(HttpContext context, object body)
    {
        ArgumentNullException.ThrowIfNull(context);
        var json = context.RequestServices.GetRequiredService<IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions>>().Value.SerializerOptions;
        var bytes = JsonSerializer.SerializeToUtf8Bytes(body, body.GetType(), json);
        return CachedBytes(context, bytes, "application/json; charset=utf-8");
    }

    public static IResult CachedBytes(HttpContext context, byte[] bytes, string contentType)
    {
        ArgumentNullException.ThrowIfNull(context);
        var etag = "\"" + System.Buffers.Text.Base64Url.EncodeToString(SHA256.HashData(bytes))[..27] + "\"";
        context.Response.Headers.ETag = etag;
        // Evidence is never kept by browsers or proxies; clients may still revalidate with If-None-Match.
        context.Response.Headers.CacheControl = "no-store";
        var ifNoneMatch = context.Request.Headers.IfNoneMatch.ToString();
        if (ifNoneMatch.Length > 0 && (ifNoneMatch.Trim() == "*" || ifNoneMatch.Split(',').Any(t => string.Equals(t.Trim().Replace("W/", string.Empty, StringComparison.Ordinal), etag, StringComparison.Ordinal))))
        {
            return Results.StatusCode(StatusCodes.Status304NotModified);
        }

        return Results.Bytes(bytes, contentType);
    }

    public static IResult Problem(int status, string title, string? detail = null) =>
        Results.Problem(statusCode: status, title: title, detail: detail);

    public static IResult NotFound(string what, string id) =>
        Problem(StatusCodes.Status404NotFound, "Not found", $"No {what} with id '{id}'.");

}
