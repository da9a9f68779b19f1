using Aims.Evidence.Api;
using Aims.Evidence.Core.Pipeline;
using Aims.Evidence.Core.Services;
using Aims.Evidence.Core.Storage;
using Aims.Evidence.Core.Tasks;
using Aims.Evidence.Hosting;
using Aims.Evidence.Local;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Aims.Evidence.Cli;

/// <summary>The `aims serve` host: the local composition behind the REST API, the dashboard and the inbox watcher.</summary>
public static class AimsServer
{
    public const string DefaultUrl = "http://127.0.0.1:5080";

    /// <summary>Registers the local store, catalog, pipeline and the API.</summary>
    public static IServiceCollection AddAimsServer(this IServiceCollection services, LocalAims aims, Action<AimsApiOptions> configure, string? runId = null)
    {
        ArgumentNullException.ThrowIfNull(aims);
        services.AddSingleton(aims.Evidence);
        services.AddSingleton<IEvidenceStore>(aims.Store);
        services.AddSingleton<IPassageIndex>(aims.Store);
        services.AddSingleton<IReviewStore>(aims.Store);
        services.AddSingleton(aims.Mapper);
        services.AddSingleton<IDocumentIngestor>(_ => aims.CreatePipeline(runId));
        services.AddAimsEvidenceApi(configure);
        return services;
    }

    /// <summary>
    /// The host's own sections, bound once through the composition root: <c>Aims:Api</c>, <c>Aims:Tasks</c> and
    /// <c>Aims:Notifications</c> (the pipeline's sections are in <see cref="LocalAims.Settings"/>), and the tasks' services.
    /// </summary>
    public static IServiceCollection AddServeSettings(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddAimsSection<AimsApiOptions>(configuration, AimsApiOptions.Section);
        services.AddAimsSection<TaskOptions>(configuration, TaskOptions.Section);
        services.AddAimsSection<NotificationOptions>(configuration, NotificationOptions.Section);
        return services.AddAimsTasks();
    }

    /// <summary>The request pipeline: security headers, dashboard, auth, then the API endpoints.</summary>
    public static void ConfigureApp(IApplicationBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.UseAimsEvidenceApi();
        app.UseEndpoints(endpoints => endpoints.MapAimsEvidenceApi());
    }

    /// <summary>
    /// The `aims serve` application. API options are bound from the configuration section "Aims:Api"
    /// (appsettings.json next to the binary, AIMS__API__* environment variables), then <paramref name="configure"/>.
    /// </summary>
    public static WebApplication Build(LocalAims aims, string inbox, string urls, string? runId = null, Action<AimsApiOptions>? configure = null)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            EnvironmentName = "Production",
            ContentRootPath = AppContext.BaseDirectory,
            Args = [],
        });
        builder.WebHost.UseUrls(urls);
        builder.Services.AddServeSettings(builder.Configuration);
        builder.Services.AddAimsServer(aims, o =>
        {
            o.InboxPath = Path.GetFullPath(inbox);
            o.WatchInbox = true;
            configure?.Invoke(o);
        }, runId);
        var app = builder.Build();
        app.UseAimsEvidenceApi();
        app.MapAimsEvidenceApi();
        return app;
    }
}

/// <summary>Marks the aims executable's assembly (the one with the entry point), e.g. for WebApplicationFactory.</summary>
public sealed class AimsHost
{
    private AimsHost()
    {
    }
}
