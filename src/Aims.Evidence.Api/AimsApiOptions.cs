namespace Aims.Evidence.Api;

/// <summary>Options of the REST API and dashboard. <c>aims serve</c> binds them from the configuration section <c>Aims:Api</c> (e.g. AIMS__API__RATELIMIT__PERMITLIMIT).</summary>
public sealed class AimsApiOptions
{
    public const string Section = "Aims:Api";

    /// <summary>Folder uploads are saved into (and the inbox watcher ingests from). Null disables uploads.</summary>
    public string? InboxPath { get; set; }

    /// <summary>Largest accepted upload, in bytes; larger requests get 413.</summary>
    public long MaxUploadBytes { get; set; } = 50L * 1024 * 1024;

    /// <summary>Largest accepted body of every other request (JSON), in bytes; larger requests get 413.</summary>
    public long MaxJsonBodyBytes { get; set; } = 64 * 1024;

    /// <summary>Default and largest page sizes of list endpoints.</summary>
    public int DefaultPageSize { get; set; } = 50;

    public int MaxPageSize { get; set; } = 500;

    /// <summary>Whether the inbox watcher runs (startup scan + FileSystemWatcher).</summary>
    public bool WatchInbox { get; set; }

    /// <summary>
    /// How long an inbox file's size and last write time must stay unchanged before it is ingested (a file still being
    /// written, appended or copied becomes one version, of its final bytes). Default 2000 ms; 0 ingests at once.
    /// </summary>
    public int InboxSettleMilliseconds { get; set; } = 2000;

    /// <summary>Inbox documents ingested at the same time; 0 (the default) = one per core.</summary>
    public int IngestConcurrency { get; set; }

    /// <summary>Origins (scheme://host[:port]) whose browser pages may call the API; empty (the default) allows no cross-origin access.</summary>
    public string[] CorsOrigins { get; set; } = [];

    public ApiRateLimitOptions RateLimit { get; set; } = new();

    /// <summary>Whether review decisions re-score the unreviewed suggestions in the background (reviews teach the mapper; default on).</summary>
    public bool LearnFromReviews { get; set; } = true;
}

/// <summary>
/// Fixed-window rate limits, one window per API key (per client IP for requests without a valid key); /api/v1/health
/// has its own per-IP window. A request over the limit (after <see cref="QueueLimit"/> queued ones) gets 429 with
/// Retry-After.
/// </summary>
public sealed class ApiRateLimitOptions
{
    /// <summary>Requests per window and key (or IP); 0 or less switches rate limiting off.</summary>
    public int PermitLimit { get; set; } = 600;

    public int WindowSeconds { get; set; } = 10;

    /// <summary>Requests over the limit that wait for the next window instead of being rejected.</summary>
    public int QueueLimit { get; set; }

    /// <summary>Requests per window and client IP to /api/v1/health; 0 or less: not limited.</summary>
    public int HealthPermitLimit { get; set; } = 600;
}
