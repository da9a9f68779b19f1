using System.Text;
using Aims.Evidence.Api;
using Aims.Evidence.Core.Services;
using Aims.Evidence.Core.Storage;
using Aims.Evidence.Functions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Aims.Evidence.Azure.Tests.Infrastructure;

/// <summary>
/// The two hosts of the contract tests over one Table Storage store (Azurite): the Functions app's own registrations
/// (<c>AddAimsFunctions</c>) and the ASP.NET Core API (<c>MapAimsEvidenceApi</c> on a TestServer) given the very same
/// store, evidence service and passage index. A function is called as the worker's ASP.NET Core integration calls it:
/// an <see cref="HttpRequest"/> in, its <see cref="IResult"/> executed on the request's context.
/// </summary>
internal sealed class ContractHosts : IAsyncDisposable
{
    private ContractHosts(ServiceProvider functions, WebApplication app)
    {
        Functions = functions;
        App = app;
        Api = app.GetTestServer().CreateClient();
    }

    public ServiceProvider Functions { get; }

    public WebApplication App { get; }

    public HttpClient Api { get; }

    /// <param name="azurite">The storage emulator.</param>
    /// <param name="settings">Functions app settings beyond the storage connection and a fresh table prefix.</param>
    /// <param name="apiOptions">The API's options (the inbox watcher is always off).</param>
    /// <param name="reviewStore">The API's review and key store, given the Functions services.</param>
    /// <param name="cancellationToken">Cancels the API's start.</param>
    /// <param name="functionServices">More registrations for the Functions side (e.g. a trigger class to call).</param>
    public static async Task<ContractHosts> CreateAsync(
        AzuriteFixture azurite,
        IReadOnlyDictionary<string, string?> settings,
        Action<AimsApiOptions> apiOptions,
        Func<IServiceProvider, IReviewStore> reviewStore,
        CancellationToken cancellationToken,
        Action<IServiceCollection>? functionServices = null)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>(settings)
        {
            ["AzureWebJobsStorage"] = azurite.ConnectionString,
            ["Aims:Azure:TablePrefix"] = AzuriteFixture.UniquePrefix(),
        }).Build();
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddAimsFunctions(configuration);
        functionServices?.Invoke(services);
        var functions = services.BuildServiceProvider();

        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Production" });
        builder.WebHost.UseTestServer();
        builder.Logging.ClearProviders();
        builder.Services.AddAimsEvidenceApi(o =>
        {
            apiOptions(o);
            o.WatchInbox = false;
        });
        builder.Services.AddSingleton(functions.GetRequiredService<IEvidenceStore>());
        builder.Services.AddSingleton(functions.GetRequiredService<EvidenceService>());
        builder.Services.AddSingleton(functions.GetRequiredService<IPassageIndex>());
        builder.Services.AddSingleton(reviewStore(functions));
        var app = builder.Build();
        app.UseAimsEvidenceApi();
        app.MapAimsEvidenceApi();
        await app.StartAsync(cancellationToken);
        return new ContractHosts(functions, app);
    }

    /// <summary>
    /// Calls the function that <paramref name="dispatch"/> picks for the method and the route's path segments (below
    /// <c>/api/v1/</c>) and returns what the worker would send: status, content type, body and ETag.
    /// </summary>
    public async Task<(int Status, string? ContentType, string Body, string? ETag)> InvokeFunctionAsync(
        string method,
        string route,
        string? apiKey,
        byte[]? body,
        string? contentType,
        Func<HttpRequest, string[], Task<IResult>> dispatch)
    {
        var (status, type, bytes, etag) = await InvokeFunctionBytesAsync(method, route, apiKey, body, contentType, dispatch);
        return (status, type, Encoding.UTF8.GetString(bytes), etag);
    }

    /// <summary>As <see cref="InvokeFunctionAsync"/>, with the body as bytes (a binary response such as a ZIP).</summary>
    public async Task<(int Status, string? ContentType, byte[] Body, string? ETag)> InvokeFunctionBytesAsync(
        string method,
        string route,
        string? apiKey,
        byte[]? body,
        string? contentType,
        Func<HttpRequest, string[], Task<IResult>> dispatch)
    {
        using var scope = Functions.CreateScope();
        var context = new DefaultHttpContext { RequestServices = scope.ServiceProvider };
        var query = route.IndexOf('?', StringComparison.Ordinal);
        var path = query < 0 ? route : route[..query];
        context.Request.Method = method;
        context.Request.Scheme = "http";
        context.Request.Host = new HostString("localhost");
        context.Request.Path = "/api/v1/" + path;
        context.Request.QueryString = query < 0 ? QueryString.Empty : new QueryString(route[query..]);
        if (body is not null)
        {
            context.Request.ContentType = contentType;
            context.Request.ContentLength = body.Length;
            context.Request.Body = new MemoryStream(body);
        }

        if (apiKey is not null)
        {
            context.Request.Headers[ApiKeyAuthenticationHandler.HeaderName] = apiKey;
        }

        using var response = new MemoryStream();
        context.Response.Body = response;
        var result = await dispatch(context.Request, path.Split('/'));
        await result.ExecuteAsync(context);
        var etag = context.Response.Headers.ETag.ToString();
        return (context.Response.StatusCode, context.Response.ContentType, response.ToArray(), etag.Length == 0 ? null : etag);
    }

    public async ValueTask DisposeAsync()
    {
        Api.Dispose();
        await App.StopAsync();
        await App.DisposeAsync();
        await Functions.DisposeAsync();
    }
}
