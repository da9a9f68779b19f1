using System.Threading.Channels;
using Aims.Evidence.Core.Catalog;
using Aims.Evidence.Core.Mapping;
using Aims.Evidence.Core.Mapping.Feedback;
using Aims.Evidence.Core.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Aims.Evidence.Api;

/// <summary>Told about each re-scoring, e.g. to refresh a search index's copies of the changed passages.</summary>
public interface IRescoreObserver
{
    Task OnRescoredAsync(RescoreResult result, CancellationToken cancellationToken);
}

/// <summary>
/// Reviews teach the mapper: after each accepted, rejected or manual mapping, the unreviewed suggestions of every
/// passage are re-scored in the background with all decisions (<see cref="ReviewLearner"/>). Requests made while a
/// re-scoring runs are coalesced into one more run, so a burst of reviews costs at most two. A failure is logged and
/// the next decision tries again; the API answer never waits for it.
/// </summary>
public sealed partial class ReviewLearningService(IServiceProvider services, ILogger<ReviewLearningService> logger) : BackgroundService
{
    private readonly Channel<bool> _requests = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private long _requested;
    private long _completed;

    /// <summary>How many re-scorings finished (successfully or not): a caller that saw <see cref="Requested"/> reach n waits for this to reach n.</summary>
    public long Completed => Interlocked.Read(ref _completed);

    public long Requested => Interlocked.Read(ref _requested);

    /// <summary>The last re-scoring's result, if any succeeded.</summary>
    public RescoreResult? Last { get; private set; }

    /// <summary>Asks for a re-scoring after a review decision; returns at once.</summary>
    public void Request()
    {
        Interlocked.Increment(ref _requested);
        _requests.Writer.TryWrite(true);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await RunAsync(stoppingToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping (also when the host failed to start): not a failure of this service.
        }
    }

    private async Task RunAsync(CancellationToken stoppingToken)
    {
        await foreach (var _ in _requests.Reader.ReadAllAsync(stoppingToken).ConfigureAwait(false))
        {
            var upTo = Requested;
            try
            {
                var learner = new ReviewLearner(services.GetRequiredService<IEvidenceStore>(), services.GetRequiredService<IReviewStore>(), services.GetService<IsoCatalog>() ?? IsoCatalog.Default, ReviewRescorers.Find(services.GetService<IControlMapper>()));
                Last = await learner.RescoreAsync(stoppingToken).ConfigureAwait(false);
                foreach (var observer in services.GetServices<IRescoreObserver>())
                {
                    await observer.OnRescoredAsync(Last, stoppingToken).ConfigureAwait(false);
                }

                LogRescored(logger, Last.Decisions, Last.PassagesChanged, Last.PassagesScored);
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
            {
                LogFailed(logger, ex);
            }
            finally
            {
                // Every request made before this run started is served by it.
                var done = Completed;
                Interlocked.CompareExchange(ref _completed, Math.Max(done, upTo), done);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Re-scored after reviews: {Decisions} decisions, {Changed} of {Scored} passages changed")]
    private static partial void LogRescored(ILogger logger, int decisions, int changed, int scored);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Re-scoring after reviews failed; the next review decision tries again")]
    private static partial void LogFailed(ILogger logger, Exception exception);
}
