using System.Threading.Channels;
using Aims.Evidence.Core.Pipeline;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Aims.Evidence.Api;

/// <summary>
/// Ingests what lands in the inbox folder: a startup scan plus a FileSystemWatcher feed a channel (a rescan when the
/// watcher overflows); up to one document per core at a time (<see cref="AimsApiOptions.IngestConcurrency"/>), never
/// one path twice at once, once it is settled: its size and last write time unchanged for
/// <see cref="AimsApiOptions.InboxSettleMilliseconds"/> (a file still being written is looked at again when it may have
/// settled, without holding a worker) and it can be opened exclusively. Known bytes come back Unchanged.
/// </summary>
public sealed partial class InboxIngestionService(IOptions<AimsApiOptions> options, IServiceProvider services, ILogger<InboxIngestionService> logger) : BackgroundService
{
    /// <summary>Marks a complete file over the pipeline's size cap (not read into memory).</summary>
    private static readonly byte[] Oversized = new byte[1];

    /// <summary>Marks a file someone else holds open exclusively, or one that changed while it was read.</summary>
    private static readonly byte[] Busy = new byte[1];

    private static readonly TimeSpan BusyRetry = TimeSpan.FromMilliseconds(250);

    private readonly Channel<string> _queue = Channel.CreateUnbounded<string>(new UnboundedChannelOptions { SingleReader = false });
    private readonly HashSet<string> _pending = new(StringComparer.Ordinal);
    private readonly Dictionary<string, bool> _inFlight = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (long Length, DateTime LastWriteUtc)> _handled = new(StringComparer.Ordinal);
    private readonly Dictionary<string, ((long Length, DateTime LastWriteUtc) Stamp, DateTime SeenUtc)> _settling = new(StringComparer.Ordinal);
    private readonly HashSet<string> _rechecks = new(StringComparer.Ordinal);
    private readonly Lock _pendingLock = new();
    private FileSystemWatcher? _watcher;

    /// <summary>Raised after each document is handled (tests and hosts may listen).</summary>
    public event EventHandler<IngestOutcome>? Ingested;

    public override void Dispose()
    {
        _watcher?.Dispose();
        base.Dispose();
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var inbox = options.Value.InboxPath;
        if (!options.Value.WatchInbox || string.IsNullOrEmpty(inbox))
        {
            return;
        }

        var ingestor = services.GetService<IDocumentIngestor>();
        if (ingestor is null)
        {
            LogNoIngestor(logger);
            return;
        }

        Directory.CreateDirectory(inbox);
        _watcher = new FileSystemWatcher(inbox) { IncludeSubdirectories = true, NotifyFilter = NotifyFilters.FileName | NotifyFilters.Size | NotifyFilters.LastWrite, InternalBufferSize = 64 * 1024 };
        _watcher.Created += (_, e) => Enqueue(e.FullPath);
        _watcher.Changed += (_, e) => Enqueue(e.FullPath);
        _watcher.Renamed += (_, e) => Enqueue(e.FullPath);
        _watcher.Error += (_, _) => Rescan(inbox);
        _watcher.EnableRaisingEvents = true;
        foreach (var file in SpecialFiles.EnumerateFolder(inbox, skipHidden: false, (folder, reason) => LogUnreadableFolder(logger, folder, reason)).Order(StringComparer.Ordinal))
        {
            Enqueue(file);
        }

        // Documents are ingested in parallel, bounded by the cores (the store serialises its writes); one path is never
        // handled by two workers at once: an event for a path in flight re-queues it when the first handling ends.
        var workers = options.Value.IngestConcurrency > 0 ? options.Value.IngestConcurrency : Environment.ProcessorCount;
        try
        {
            await Parallel.ForEachAsync(
                _queue.Reader.ReadAllAsync(stoppingToken),
                new ParallelOptions { MaxDegreeOfParallelism = workers, CancellationToken = stoppingToken },
                async (path, ct) => await HandleAsync(inbox, ingestor, path, ct).ConfigureAwait(false)).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private async Task HandleAsync(string inbox, IDocumentIngestor ingestor, string path, CancellationToken stoppingToken)
    {
        lock (_pendingLock)
        {
            _pending.Remove(path);
            if (_inFlight.TryGetValue(path, out _))
            {
                _inFlight[path] = true; // handled again when the running handling ends
                return;
            }

            _inFlight[path] = false;
        }

        try
        {
            var maxBytes = (ingestor as IngestionPipeline)?.Limits.MaxFileBytes ?? long.MaxValue;
            var stamp = Stamp(path);
            var name = Path.GetRelativePath(inbox, path).Replace('\\', '/');
            IngestOutcome outcome;
            if (SpecialFiles.Kind(path) is { } kind)
            {
                // Never opened: a FIFO would hold this worker in open() until someone writes to it, and a link may
                // point anywhere (/etc/passwd). Recorded as skipped with its kind.
                if (ingestor is not IngestionPipeline recorder)
                {
                    LogNotRegular(logger, name, kind);
                    return;
                }

                outcome = await recorder.RecordNotRegularAsync(name, kind, stoppingToken).ConfigureAwait(false);
            }
            else
            {
                // Still being written (changed within the settle period): looked at again once it may have settled.
                if (!Settled(path, stamp, out var wait))
                {
                    Recheck(path, wait, stoppingToken);
                    return;
                }

                var bytes = await ReadSettledAsync(path, maxBytes, stoppingToken).ConfigureAwait(false);
                if (bytes is null)
                {
                    Forget(path);
                    return;
                }

                if (ReferenceEquals(bytes, Busy) || Stamp(path) != stamp)
                {
                    // Written to (or held open exclusively) while it was read: the bytes may be incomplete.
                    Recheck(path, Settle > BusyRetry ? Settle : BusyRetry, stoppingToken);
                    return;
                }

                Forget(path);

                if (ReferenceEquals(bytes, Oversized) && ingestor is IngestionPipeline pipeline)
                {
                    // Over the size cap: hashed as a stream and recorded as failed, never loaded into memory.
                    var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, useAsync: true);
                    await using (stream.ConfigureAwait(false))
                    {
                        outcome = await pipeline.RecordOversizedAsync(name, stream, stoppingToken).ConfigureAwait(false);
                    }
                }
                else
                {
                    outcome = await ingestor.IngestAsync(name, bytes, stoppingToken).ConfigureAwait(false);
                }
            }

            lock (_pendingLock)
            {
                _handled[path] = stamp;
            }

            LogIngested(logger, name, outcome.Status, outcome.Reason);
            Ingested?.Invoke(this, outcome);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        catch (Exception ex)
        {
            LogFailed(logger, ex, path);
        }
        finally
        {
            bool again;
            lock (_pendingLock)
            {
                again = _inFlight.Remove(path, out var rerun) && rerun;
            }

            if (again)
            {
                Enqueue(path);
            }
        }
    }

    private TimeSpan Settle => TimeSpan.FromMilliseconds(Math.Max(0, options.Value.InboxSettleMilliseconds));

    /// <summary>
    /// Whether the file has settled: its last write time is at least the settle period old, or (a clock that disagrees,
    /// a time set into the future) its length and time are what they were when first seen here that long ago.
    /// Otherwise <paramref name="wait"/> is how long until it may have settled.
    /// </summary>
    private bool Settled(string path, (long Length, DateTime LastWriteUtc) stamp, out TimeSpan wait)
    {
        var settle = Settle;
        var now = DateTime.UtcNow;
        wait = TimeSpan.Zero;
        var sinceWrite = now - stamp.LastWriteUtc;
        if (sinceWrite >= settle)
        {
            return true;
        }

        lock (_pendingLock)
        {
            if (_settling.TryGetValue(path, out var seen) && seen.Stamp == stamp)
            {
                if (now - seen.SeenUtc >= settle)
                {
                    return true;
                }
            }
            else
            {
                _settling[path] = seen = (stamp, now);
            }

            var bySeen = settle - (now - seen.SeenUtc);
            var byWrite = sinceWrite >= TimeSpan.Zero ? settle - sinceWrite : bySeen;
            wait = TimeSpan.FromTicks(Math.Max(TimeSpan.FromMilliseconds(10).Ticks, Math.Min(bySeen.Ticks, byWrite.Ticks)));
            return false;
        }
    }

    private void Forget(string path)
    {
        lock (_pendingLock)
        {
            _settling.Remove(path);
        }
    }

    /// <summary>Queues <paramref name="path"/> again after <paramref name="wait"/> (one timer per path; events may queue it sooner).</summary>
    private void Recheck(string path, TimeSpan wait, CancellationToken stoppingToken)
    {
        lock (_pendingLock)
        {
            if (!_rechecks.Add(path))
            {
                return;
            }
        }

        _ = Task.Delay(wait, stoppingToken).ContinueWith(
            _ =>
            {
                lock (_pendingLock)
                {
                    _rechecks.Remove(path);
                }

                Enqueue(path);
            },
            CancellationToken.None,
            TaskContinuationOptions.OnlyOnRanToCompletion,
            TaskScheduler.Default);
    }

    /// <summary>Length and last write time: a rescan skips a file whose stamp is the one it had when it was handled.</summary>
    private static (long Length, DateTime LastWriteUtc) Stamp(string path)
    {
        try
        {
            var info = new FileInfo(path);
            return info.Exists ? (info.Length, info.LastWriteTimeUtc) : default;
        }
        catch (IOException)
        {
            return default;
        }
    }

    /// <summary>After the watcher lost events (its buffer overflowed), every file not handled in its current state is queued.</summary>
    private void Rescan(string inbox)
    {
        LogRescan(logger, inbox);
        foreach (var file in SpecialFiles.EnumerateFolder(inbox, skipHidden: false, (folder, reason) => LogUnreadableFolder(logger, folder, reason)).Order(StringComparer.Ordinal))
        {
            var current = Stamp(file);
            bool known;
            lock (_pendingLock)
            {
                known = _handled.TryGetValue(file, out var stamp) && stamp == current;
            }

            if (!known)
            {
                Enqueue(file);
            }
        }
    }

    private static bool Ignored(string path) => IgnoresName(Path.GetFileName(path));

    /// <summary>
    /// Whether the watcher ignores a file of this name: hidden (<c>.name</c>), an editor's lock or backup (<c>~name</c>),
    /// or a file still being written under a temporary name (<c>*.part</c>, <c>*.tmp</c>). Uploads of such names are refused.
    /// </summary>
    public static bool IgnoresName(string fileName)
    {
        ArgumentNullException.ThrowIfNull(fileName);
        return fileName.StartsWith('.') || fileName.StartsWith('~') || fileName.EndsWith(".part", StringComparison.OrdinalIgnoreCase) || fileName.EndsWith(".tmp", StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>
    /// Reads a settled file, opened exclusively: the bytes, <see cref="Oversized"/> over the cap, <see cref="Busy"/> when
    /// someone else holds it, null when it vanished or cannot be read.
    /// </summary>
    private static async Task<byte[]?> ReadSettledAsync(string path, long maxBytes, CancellationToken ct)
    {
        try
        {
            await using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.None);
            if (stream.Length > maxBytes)
            {
                return Oversized;
            }

            var buffer = new byte[stream.Length];
            await stream.ReadExactlyAsync(buffer, ct).ConfigureAwait(false);
            return buffer;
        }
        catch (FileNotFoundException)
        {
            return null;
        }
        catch (DirectoryNotFoundException)
        {
            return null;
        }
        catch (EndOfStreamException)
        {
            return Busy; // truncated while it was read
        }
        catch (IOException)
        {
            return Busy; // still being written by someone else
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }

    private void Enqueue(string path)
    {
        if (Ignored(path) || (Directory.Exists(path) && SpecialFiles.Kind(path) == "directory"))
        {
            return; // a folder (its files are watched); a link to a folder is handled, to be recorded as skipped
        }

        lock (_pendingLock)
        {
            if (!_pending.Add(path))
            {
                return;
            }
        }

        _queue.Writer.TryWrite(path);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "The inbox watcher has no document ingestor registered; nothing will be ingested.")]
    private static partial void LogNoIngestor(ILogger logger);

    [LoggerMessage(Level = LogLevel.Information, Message = "Ingested {Name}: {Status} {Reason}")]
    private static partial void LogIngested(ILogger logger, string name, IngestStatus status, string? reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Skipped {Name}: not a regular file ({Kind}); not read")]
    private static partial void LogNotRegular(ILogger logger, string name, string kind);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not read the inbox folder {Folder}: {Reason}")]
    private static partial void LogUnreadableFolder(ILogger logger, string folder, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The inbox watcher lost events; rescanning {Inbox}")]
    private static partial void LogRescan(ILogger logger, string inbox);

    [LoggerMessage(Level = LogLevel.Error, Message = "Ingesting {Path} failed")]
    private static partial void LogFailed(ILogger logger, Exception exception, string path);
}
