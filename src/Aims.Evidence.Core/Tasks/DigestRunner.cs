using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Aims.Evidence.Core.Services;
using Aims.Evidence.Core.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Aims.Evidence.Core.Tasks;

/// <summary>What a digest run did.</summary>
public enum DigestOutcome
{
    /// <summary>No webhook is configured (or the store keeps no digests): nothing to do.</summary>
    NotConfigured,

    /// <summary>Today's digest was sent before (by this or another host).</summary>
    AlreadySent,

    Sent,

    /// <summary>Every attempt failed; the day stays open for the next run.</summary>
    Failed,
}

/// <summary>
/// Sends the day's digest once: builds it (<see cref="DigestBuilder"/>), claims the day in the store (a second run the
/// same day, in any host, sends nothing), POSTs it to the webhook with retries and gives the day back if it could not
/// be delivered. The same code runs in <c>aims serve</c> (a background service) and in the Functions app (a timer).
/// </summary>
public sealed partial class DigestRunner(
    EvidenceService evidence,
    IDigestStore? digests,
    HttpClient http,
    NotificationOptions options,
    TaskOptions? taskOptions,
    TimeProvider time,
    ILogger<DigestRunner>? logger = null) : IDisposable
{
    /// <summary>How the digest is written on the wire: camelCase names and enums, dates as yyyy-MM-dd.</summary>
    public static JsonSerializerOptions Json { get; } = new(JsonSerializerDefaults.Web) { Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) } };

    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly ILogger _logger = logger ?? NullLogger<DigestRunner>.Instance;

    public void Dispose() => _gate.Dispose();

    public bool Configured => !string.IsNullOrWhiteSpace(options.WebhookUrl) && digests is not null;

    /// <summary>Today's digest, built but not sent (what the webhook would receive).</summary>
    public async Task<Digest> BuildAsync(CancellationToken cancellationToken)
    {
        var today = OwnerTasks.Today(time);
        var report = await evidence.GetGapReportAsync(cancellationToken).ConfigureAwait(false);
        var tasks = OwnerTasks.Derive(report, today, OwnerTasks.DefaultDue(evidence, taskOptions));
        var previous = digests is null ? null : await digests.GetLastDigestBeforeAsync(today, cancellationToken).ConfigureAwait(false);
        return DigestBuilder.Build(report, tasks, previous, today, evidence.ReviewPeriod, options.StaleWithinDays);
    }

    public async Task<DigestOutcome> RunAsync(CancellationToken cancellationToken)
    {
        if (!Configured)
        {
            return DigestOutcome.NotConfigured;
        }

        if (options.Problem() is { } problem)
        {
            LogBadSettings(_logger, problem);
            return DigestOutcome.NotConfigured;
        }

        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var digest = await BuildAsync(cancellationToken).ConfigureAwait(false);
            if (!await digests!.TryClaimDigestAsync(digest.Day, digest.Gaps, cancellationToken).ConfigureAwait(false))
            {
                return DigestOutcome.AlreadySent;
            }

            if (await SendAsync(new Uri(options.WebhookUrl!), digest, cancellationToken).ConfigureAwait(false))
            {
                LogSent(_logger, digest.Day);
                return DigestOutcome.Sent;
            }

            await digests.ReleaseDigestAsync(digest.Day, CancellationToken.None).ConfigureAwait(false);
            return DigestOutcome.Failed;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>POSTs the digest; retries server errors, 408, 429, timeouts and network errors with a doubling delay.</summary>
    private async Task<bool> SendAsync(Uri webhook, Digest digest, CancellationToken cancellationToken)
    {
        var body = JsonSerializer.SerializeToUtf8Bytes(digest, Json);
        var delay = TimeSpan.FromMilliseconds(options.RetryDelayMilliseconds);
        for (var attempt = 1; ; attempt++)
        {
            string failure;
            using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
            {
                timeout.CancelAfter(TimeSpan.FromSeconds(options.TimeoutSeconds));
                try
                {
                    using var content = new ByteArrayContent(body);
                    content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json") { CharSet = Encoding.UTF8.WebName };
                    using var response = await http.PostAsync(webhook, content, timeout.Token).ConfigureAwait(false);
                    if (response.IsSuccessStatusCode)
                    {
                        return true;
                    }

                    failure = $"HTTP {(int)response.StatusCode}";
                    if (!Retryable(response.StatusCode))
                    {
                        LogRefused(_logger, digest.Day, failure);
                        return false;
                    }
                }
                catch (HttpRequestException ex)
                {
                    failure = ex.Message;
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    failure = $"no answer within {options.TimeoutSeconds} s";
                }
            }

            if (attempt >= options.MaxAttempts)
            {
                LogUndelivered(_logger, digest.Day, attempt, failure);
                return false;
            }

            LogRetry(_logger, digest.Day, attempt, failure, delay);
            await Task.Delay(delay, time, cancellationToken).ConfigureAwait(false);
            delay *= 2;
        }
    }

    private static bool Retryable(HttpStatusCode status) =>
        (int)status >= 500 || status is HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests;

    [LoggerMessage(Level = LogLevel.Error, Message = "No digest: {Problem}")]
    private static partial void LogBadSettings(ILogger logger, string problem);

    [LoggerMessage(Level = LogLevel.Information, Message = "Digest of {Day} sent")]
    private static partial void LogSent(ILogger logger, DateOnly day);

    [LoggerMessage(Level = LogLevel.Error, Message = "Digest of {Day} refused by the webhook ({Failure}); not retried")]
    private static partial void LogRefused(ILogger logger, DateOnly day, string failure);

    [LoggerMessage(Level = LogLevel.Error, Message = "Digest of {Day} not delivered after {Attempts} attempts ({Failure})")]
    private static partial void LogUndelivered(ILogger logger, DateOnly day, int attempts, string failure);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Digest of {Day}: attempt {Attempt} failed ({Failure}); retrying in {Delay}")]
    private static partial void LogRetry(ILogger logger, DateOnly day, int attempt, string failure, TimeSpan delay);
}
