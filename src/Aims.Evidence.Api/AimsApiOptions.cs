namespace Aims.Evidence.Api;

/// <summary>Options of the REST API and dashboard.</summary>
public sealed class AimsApiOptions
{
    /// <summary>Folder uploads are saved into (and the inbox watcher ingests from). Null disables uploads.</summary>
    public string? InboxPath { get; set; }

    /// <summary>Largest accepted upload, in bytes; larger requests get 413.</summary>
    public long MaxUploadBytes { get; set; } = 50L * 1024 * 1024;

    /// <summary>Default and largest page sizes of list endpoints.</summary>
    public int DefaultPageSize { get; set; } = 50;

    public int MaxPageSize { get; set; } = 500;

    /// <summary>Whether the inbox watcher runs (startup scan + FileSystemWatcher).</summary>
    public bool WatchInbox { get; set; }

    /// <summary>Inbox documents ingested at the same time; 0 (the default) = one per core.</summary>
    public int IngestConcurrency { get; set; }
}
