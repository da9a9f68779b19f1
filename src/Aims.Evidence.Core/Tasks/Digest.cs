using System.Globalization;
using System.Text;
using Aims.Evidence.Core.Gaps;
using Aims.Evidence.Core.Storage;

namespace Aims.Evidence.Core.Tasks;

/// <summary>Section <c>Aims:Notifications</c>: the daily digest and where it is POSTed.</summary>
public sealed class NotificationOptions
{
    public const string Section = "Aims:Notifications";

    /// <summary>The webhook the digest is POSTed to (JSON with a Teams/Slack-compatible <c>text</c>); none: no digest.</summary>
    public string? WebhookUrl { get; set; }

    /// <summary><c>aims serve</c>: the hour of the day (UTC, 0-23) the digest is sent; it is also sent at start when the day's is missing.</summary>
    public int DigestHourUtc { get; set; } = 7;

    /// <summary>Evidence that turns stale within this many days is in the digest.</summary>
    public int StaleWithinDays { get; set; } = 30;

    /// <summary>Attempts per digest (server errors, 408, 429, timeouts and network errors are retried).</summary>
    public int MaxAttempts { get; set; } = 4;

    /// <summary>The wait before the second attempt; it doubles with each further attempt.</summary>
    public int RetryDelayMilliseconds { get; set; } = 2000;

    /// <summary>How long one attempt may take.</summary>
    public int TimeoutSeconds { get; set; } = 30;

    /// <summary>The first problem with the settings, naming the setting; null when they are valid.</summary>
    public string? Problem() =>
        !string.IsNullOrWhiteSpace(WebhookUrl) && !(Uri.TryCreate(WebhookUrl, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https")
            ? $"{Section}:WebhookUrl must be an absolute http or https URL"
            : DigestHourUtc is < 0 or > 23 ? $"{Section}:DigestHourUtc must be 0-23"
            : StaleWithinDays is < 0 or > 3650 ? $"{Section}:StaleWithinDays must be 0-3650"
            : MaxAttempts is < 1 or > 10 ? $"{Section}:MaxAttempts must be 1-10"
            : RetryDelayMilliseconds is < 0 or > 600_000 ? $"{Section}:RetryDelayMilliseconds must be 0-600000"
            : TimeoutSeconds is < 1 or > 600 ? $"{Section}:TimeoutSeconds must be 1-600"
            : null;
}

/// <summary>An entry that became a gap since the last digest.</summary>
public sealed record DigestGap(string EntryId, string Title, GapStatus Status, string Reason);

/// <summary>An entry whose newest evidence turns stale on <see cref="StaleOn"/>.</summary>
public sealed record DigestStale(string EntryId, string Title, DateOnly StaleOn);

/// <summary>
/// The daily digest: overdue tasks, gaps that are new since the last digest, evidence turning stale soon.
/// <see cref="Text"/> is the human-readable summary (the field Teams and Slack incoming webhooks show).
/// </summary>
public sealed record Digest(string Text, DateOnly Day, IReadOnlyList<OwnerTask> OverdueTasks, IReadOnlyList<DigestGap> NewGaps, IReadOnlyList<DigestStale> TurningStale)
{
    /// <summary>The entries that are gaps today (recorded with the day, so the next digest can tell which are new).</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public IReadOnlyList<string> Gaps { get; init; } = [];
}

/// <summary>Builds the digest of a day from the gap report, the open tasks and the previous digest.</summary>
public static class DigestBuilder
{
    private const int LinesPerList = 10;

    /// <param name="report">The gap report now.</param>
    /// <param name="tasks">The open tasks now (the overdue ones are listed).</param>
    /// <param name="previous">The last digest sent before today: gaps it recorded are not new. None: every gap is new.</param>
    /// <param name="today">The digest's day (UTC).</param>
    /// <param name="reviewPeriod">The gap analysis' review period (evidence older than this is stale).</param>
    /// <param name="staleWithinDays">Evidence that turns stale within this many days after today is listed.</param>
    public static Digest Build(GapReport report, IReadOnlyList<OwnerTask> tasks, DigestRecord? previous, DateOnly today, TimeSpan reviewPeriod, int staleWithinDays)
    {
        ArgumentNullException.ThrowIfNull(report);
        ArgumentNullException.ThrowIfNull(tasks);
        var leaves = report.Entries.Where(g => !g.Entry.Container).ToArray();
        var gaps = leaves.Where(g => OwnerTasks.OpenStatuses.Contains(g.Status)).ToArray();
        var known = previous?.Gaps.ToHashSet(StringComparer.Ordinal) ?? [];
        var newGaps = gaps.Where(g => !known.Contains(g.Entry.Id))
            .Select(g => new DigestGap(g.Entry.Id, g.Entry.Title, g.Status, g.Reason)).ToArray();
        var last = today.AddDays(staleWithinDays);
        var turning = leaves
            .Where(g => g.Status is not (GapStatus.Stale or GapStatus.NotApplicable or GapStatus.Missing) && g.NewestEvidence is not null)
            .Select(g => new DigestStale(g.Entry.Id, g.Entry.Title, DateOnly.FromDateTime((g.NewestEvidence!.Value + reviewPeriod).UtcDateTime).AddDays(1)))
            .Where(s => s.StaleOn >= today && s.StaleOn <= last)
            .OrderBy(s => s.StaleOn).ThenBy(s => s.EntryId, StringComparer.Ordinal)
            .ToArray();
        var overdue = tasks.Where(t => t.Overdue).ToArray();
        var digest = new Digest(Text(today, overdue, newGaps, turning, staleWithinDays), today, overdue, newGaps, turning)
        {
            Gaps = gaps.Select(g => g.Entry.Id).Order(StringComparer.Ordinal).ToArray(),
        };
        return digest;
    }

    private static string Text(DateOnly day, OwnerTask[] overdue, DigestGap[] newGaps, DigestStale[] turning, int staleWithinDays)
    {
        var inv = CultureInfo.InvariantCulture;
        var text = new StringBuilder();
        text.Append(inv, $"AIMS evidence digest {day:yyyy-MM-dd}: {Count(overdue.Length, "overdue task")}, {Count(newGaps.Length, "new gap")}, ")
            .Append(inv, $"{Count(turning.Length, "entry", "entries")} turning stale within {staleWithinDays} days.");
        List(text, "Overdue tasks", overdue, t => string.Create(inv, $"{t.EntryId} {t.Title}: {t.Owner}, due {t.DueDate:yyyy-MM-dd} ({GapAnalyzer.StatusText(t.Status)})"));
        List(text, "New gaps", newGaps, g => $"{g.EntryId} {g.Title}: {GapAnalyzer.StatusText(g.Status)}");
        List(text, "Turning stale", turning, s => string.Create(inv, $"{s.EntryId} {s.Title}: stale from {s.StaleOn:yyyy-MM-dd}"));
        return text.ToString();
    }

    private static string Count(int n, string one, string? many = null) =>
        n.ToString(CultureInfo.InvariantCulture) + " " + (n == 1 ? one : many ?? one + "s");

    private static void List<T>(StringBuilder text, string heading, IReadOnlyList<T> items, Func<T, string> line)
    {
        if (items.Count == 0)
        {
            return;
        }

        text.Append("\n\n").Append(heading).Append(':');
        foreach (var item in items.Take(LinesPerList))
        {
            text.Append("\n- ").Append(line(item));
        }

        if (items.Count > LinesPerList)
        {
            text.Append(CultureInfo.InvariantCulture, $"\n- and {items.Count - LinesPerList} more");
        }
    }
}
