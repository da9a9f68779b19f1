using Aims.Evidence.Azure.Blobs;
using Aims.Evidence.Azure.Configuration;
using Aims.Evidence.Azure.Search;
using Aims.Evidence.Azure.Tables;
using Aims.Evidence.Core.Extraction;
using Aims.Evidence.Core.Pipeline;
using Aims.Evidence.Core.Storage;
using Aims.Evidence.Hosting;
using Azure;
using Azure.Storage.Blobs;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.Logging;

namespace Aims.Evidence.Functions;

/// <summary>
/// Ingests each blob that lands in the inbox container, the one setting <c>Aims:Azure:InboxContainer</c> (app setting
/// <c>Aims__Azure__InboxContainer</c>, default <c>evidence-inbox</c>) that uploads write to. The trigger is fed by
/// Event Grid (BlobCreated events pushed to the blobs extension webhook), not by polling the container.
/// <para>
/// Retries are bounded and counted in the status table: a transient failure is recorded as
/// <c>retrying</c> and rethrown so the host delivers the blob again (through the extension's internal queue);
/// the attempt that reaches <see cref="AimsAzureOptions.MaxIngestAttempts"/> records <c>failed</c> with the
/// reason and returns normally, so a document never cycles forever. A document the pipeline rejects
/// (<see cref="DocumentRejectedException"/>) fails at once: trying the same bytes again cannot help.
/// Duplicate events for bytes already processed are ignored.
/// </para>
/// <para>
/// When Azure AI Search is configured, a committed version is then copied into the index (<see cref="SearchIndexer"/>):
/// its passages are uploaded and the older versions marked not current. The blob counts as processed only once that
/// succeeded. A failed upload takes the same bounded retry: the next delivery finds the version already in Table
/// Storage (the pipeline answers <c>unchanged</c>) and uploads it again under the same keys; the last attempt records
/// <c>failed</c> with the index error in the status table.
/// </para>
/// </summary>
public sealed class IngestBlobFunction
{
    public const string FunctionName = "IngestBlob";

    /// <summary>
    /// The trigger's path: the host resolves <c>%…%</c> from its app settings, where <c>Aims__Azure__InboxContainer</c>
    /// is the same setting <see cref="AimsAzureOptions.InboxContainer"/> binds (the Bicep and the local settings set it).
    /// </summary>
    public const string InboxPath = "%" + AimsAzureOptions.InboxContainerSetting + "%/{name}";

    private readonly IDocumentIngestor _ingestor;
    private readonly IngestionStatusTable _status;
    private readonly AimsAzureOptions _options;
    private readonly ILogger<IngestBlobFunction> _logger;
    private readonly SearchIndexer? _indexer;
    private readonly long _maxFileBytes;

    /// <param name="indexer">Copies committed versions into Azure AI Search; null (the default) when Search is not configured.</param>
    /// <param name="settings">The app's settings: <c>Aims:Extraction:MaxFileBytes</c> caps the download as it caps the pipeline.</param>
    public IngestBlobFunction(IDocumentIngestor ingestor, IngestionStatusTable status, AimsAzureOptions options, ILogger<IngestBlobFunction> logger, SearchIndexer? indexer = null, AimsSettings? settings = null)
    {
        _ingestor = ingestor;
        _status = status;
        _options = options;
        _logger = logger;
        _indexer = indexer;
        _maxFileBytes = (settings?.Limits ?? ExtractionLimits.Default).MaxFileBytes;
    }

    [Function(FunctionName)]
    public Task RunAsync(
        [BlobTrigger(InboxPath, Source = BlobTriggerSource.EventGrid, Connection = "AzureWebJobsStorage")] BlobClient blob,
        string name,
        CancellationToken cancellationToken) =>
        IngestAsync(blob, name, cancellationToken);

    /// <summary>One delivery of one blob. Returns the resulting state (processed or failed); throws to ask for a retry.</summary>
    public async Task<string> IngestAsync(BlobClient blob, string name, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(blob);
        BlobDocument document;
        try
        {
            document = await BlobDocumentSource.DownloadAsync(blob, _maxFileBytes, cancellationToken).ConfigureAwait(false);
        }
        catch (RequestFailedException ex) when (ex.Status is 404 or 412)
        {
            // Deleted or replaced since the event: the newer version raises its own event.
            Log.BlobGone(_logger, name, ex.Status);
            return "gone";
        }
        catch (DocumentRejectedException ex)
        {
            await _status.RecordFailureAsync(name, "unread", 1, ex.Message, final: true, cancellationToken).ConfigureAwait(false);
            return IngestionStates.Failed;
        }

        var maxAttempts = Math.Max(1, _options.MaxIngestAttempts);
        var (decision, attempt) = await _status.BeginAttemptAsync(name, document.Sha256, maxAttempts, cancellationToken).ConfigureAwait(false);
        if (decision != AttemptDecision.Proceed)
        {
            Log.Skipped(_logger, name, decision);
            return decision == AttemptDecision.AlreadyProcessed ? IngestionStates.Processed : IngestionStates.Failed;
        }

        try
        {
            var result = await _ingestor.IngestAsync(name, document.Content, cancellationToken).ConfigureAwait(false);
            if (result.Status == IngestStatus.Failed)
            {
                // The pipeline recorded the document as failed with its reason: a permanent outcome, not a retry.
                await _status.RecordFailureAsync(name, document.Sha256, attempt, result.Reason ?? "failed", final: true, CancellationToken.None).ConfigureAwait(false);
                Log.Rejected(_logger, name, result.Reason ?? "failed");
                return IngestionStates.Failed;
            }

            var outcome = result.Status.ToString().ToLowerInvariant()
                + (result.Reason is not null ? ": " + result.Reason : result.Document is { } doc ? $": {doc.PassageCount} passages" : string.Empty);
            if (_indexer is not null && result.Document is { Status: DocumentStatus.Processed } stored)
            {
                // After the store commit: a failure here is retried like any other (the store already holds the version).
                SearchIndexResult indexed;
                try
                {
                    indexed = await _indexer.IndexAsync(stored, cancellationToken).ConfigureAwait(false);
                }
                catch (RequestFailedException ex)
                {
                    throw new SearchIndexingException($"Azure AI Search indexing failed after the store commit (HTTP {ex.Status}): {ex.Message}", ex);
                }

                outcome += $"; search: {indexed.Uploaded} passages indexed, {indexed.Superseded} superseded";
            }

            await _status.CompleteAsync(name, document.Sha256, attempt, outcome, cancellationToken).ConfigureAwait(false);
            Log.Ingested(_logger, name, outcome, attempt);
            return IngestionStates.Processed;
        }
        catch (DocumentRejectedException ex)
        {
            await _status.RecordFailureAsync(name, document.Sha256, attempt, ex.Message, final: true, CancellationToken.None).ConfigureAwait(false);
            Log.Rejected(_logger, name, ex.Message);
            return IngestionStates.Failed;
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            var final = attempt >= maxAttempts;
            var reason = $"{ex.GetType().Name}: {ex.Message}";
            await _status.RecordFailureAsync(name, document.Sha256, attempt, reason, final, CancellationToken.None).ConfigureAwait(false);
            if (final)
            {
                Log.GaveUp(_logger, ex, name, attempt);
                return IngestionStates.Failed;
            }

            Log.WillRetry(_logger, ex, name, attempt, maxAttempts);
            throw;
        }
    }

    // LoggerMessage.Define rather than [LoggerMessage]: this project receives the logging source generator twice
    // (ASP.NET Core shared framework and Microsoft.Extensions.Logging.Abstractions 11), which then emits every partial
    // method twice (CS0757). The delegates below are the same high-performance logging, without the generator.
    private static class Log
    {
        private static readonly Action<ILogger, string, int, Exception?> BlobGoneMessage =
            LoggerMessage.Define<string, int>(LogLevel.Information, new EventId(1, nameof(BlobGone)), "Blob {Name} is gone or changed (HTTP {Status}); skipping this event");

        private static readonly Action<ILogger, string, AttemptDecision, Exception?> SkippedMessage =
            LoggerMessage.Define<string, AttemptDecision>(LogLevel.Information, new EventId(2, nameof(Skipped)), "Blob {Name} skipped: {Decision}");

        private static readonly Action<ILogger, string, string, int, Exception?> IngestedMessage =
            LoggerMessage.Define<string, string, int>(LogLevel.Information, new EventId(3, nameof(Ingested)), "Blob {Name} ingested ({Outcome}) on attempt {Attempt}");

        private static readonly Action<ILogger, string, string, Exception?> RejectedMessage =
            LoggerMessage.Define<string, string>(LogLevel.Warning, new EventId(4, nameof(Rejected)), "Blob {Name} rejected: {Reason}");

        private static readonly Action<ILogger, string, int, Exception?> GaveUpMessage =
            LoggerMessage.Define<string, int>(LogLevel.Error, new EventId(5, nameof(GaveUp)), "Blob {Name} failed on its last attempt ({Attempt}); recorded as failed");

        private static readonly Action<ILogger, string, int, int, Exception?> WillRetryMessage =
            LoggerMessage.Define<string, int, int>(LogLevel.Warning, new EventId(6, nameof(WillRetry)), "Blob {Name} failed on attempt {Attempt} of {MaxAttempts}; the host will deliver it again");

        public static void BlobGone(ILogger logger, string name, int status) => BlobGoneMessage(logger, name, status, null);

        public static void Skipped(ILogger logger, string name, AttemptDecision decision) => SkippedMessage(logger, name, decision, null);

        public static void Ingested(ILogger logger, string name, string outcome, int attempt) => IngestedMessage(logger, name, outcome, attempt, null);

        public static void Rejected(ILogger logger, string name, string reason) => RejectedMessage(logger, name, reason, null);

        public static void GaveUp(ILogger logger, Exception exception, string name, int attempt) => GaveUpMessage(logger, name, attempt, exception);

        public static void WillRetry(ILogger logger, Exception exception, string name, int attempt, int maxAttempts) => WillRetryMessage(logger, name, attempt, maxAttempts, exception);
    }
}

/// <summary>The store committed a version but Azure AI Search did not take its passages (retried by the blob trigger).</summary>
public sealed class SearchIndexingException : Exception
{
    public SearchIndexingException()
    {
    }

    public SearchIndexingException(string message)
        : base(message)
    {
    }

    public SearchIndexingException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
