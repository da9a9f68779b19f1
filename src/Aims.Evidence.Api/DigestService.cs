using Aims.Evidence.Core.Services;
using Aims.Evidence.Core.Storage;
using Aims.Evidence.Core.Tasks;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Aims.Evidence.Api;

/// <summary>Registrations of tasks and the daily digest, shared by <c>aims serve</c> and the Functions app.</summary>
public static class AimsTasksRegistration
{
    /// <summary>
    /// The clock (<see cref="TimeProvider.System"/> unless one is registered), the validation of <see cref="TaskOptions"/>
    /// and <see cref="NotificationOptions"/> (a bad value fails at start with the setting's name; the host binds them
    /// from <c>Aims:Tasks</c> and <c>Aims:Notifications</c> through the composition root) and the <see cref="DigestRunner"/>.
    /// </summary>
    public static IServiceCollection AddAimsTasks(this IServiceCollection services)
    {
        services.TryAddSingleton(TimeProvider.System);
        var tasks = services.AddOptions<TaskOptions>();
        var notifications = services.AddOptions<NotificationOptions>();
        notifications.ValidateOnStart();
        tasks.ValidateOnStart().Validate(o => o.DefaultDueDays is null or (>= 0 and <= 3650), $"{TaskOptions.Section}:DefaultDueDays must be 0-3650");
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<NotificationOptions>, NotificationOptionsValidation>());
        services.TryAddSingleton(sp =>
        {
            var evidence = sp.GetRequiredService<EvidenceService>();
            var options = sp.GetRequiredService<IOptions<NotificationOptions>>().Value;
            return new DigestRunner(
                evidence,
                sp.GetService<IDigestStore>() ?? evidence.Store as IDigestStore,
                new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) }) { Timeout = Timeout.InfiniteTimeSpan },
                options,
                sp.GetRequiredService<IOptions<TaskOptions>>().Value,
                sp.GetRequiredService<TimeProvider>(),
                sp.GetService<ILogger<DigestRunner>>());
        });
        return services;
    }

    private sealed class NotificationOptionsValidation : IValidateOptions<NotificationOptions>
    {
        public ValidateOptionsResult Validate(string? name, NotificationOptions options) =>
            options.Problem() is { } problem ? ValidateOptionsResult.Fail(problem) : ValidateOptionsResult.Success;
    }
}

/// <summary>
/// <c>aims serve</c>'s digest: at start (when today's digest was not sent yet) and then every day at
/// <see cref="NotificationOptions.DigestHourUtc"/>; a day whose digest could not be delivered is tried again every
/// 30 minutes. Nothing runs without a webhook.
/// </summary>
public sealed partial class DigestService(DigestRunner runner, IOptions<NotificationOptions> options, TimeProvider time, ILogger<DigestService> logger) : BackgroundService
{
    private static readonly TimeSpan RetryAfterFailure = TimeSpan.FromMinutes(30);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!runner.Configured)
        {
            return;
        }

        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                var outcome = await RunOnceAsync(stoppingToken).ConfigureAwait(false);
                var now = time.GetUtcNow();
                var next = new DateTimeOffset(now.UtcDateTime.Date.AddHours(options.Value.DigestHourUtc), TimeSpan.Zero);
                if (next <= now)
                {
                    next = next.AddDays(1);
                }

                var wait = next - now;
                if (outcome == DigestOutcome.Failed && wait > RetryAfterFailure)
                {
                    wait = RetryAfterFailure;
                }

                await Task.Delay(wait, time, stoppingToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping.
        }
    }

    private async Task<DigestOutcome> RunOnceAsync(CancellationToken stoppingToken)
    {
        try
        {
            return await runner.RunAsync(stoppingToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
        {
            LogFailed(logger, ex);
            return DigestOutcome.Failed;
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "The digest run failed; it is tried again later")]
    private static partial void LogFailed(ILogger logger, Exception exception);
}
