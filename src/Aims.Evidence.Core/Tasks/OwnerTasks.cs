using Aims.Evidence.Core.Gaps;
using Aims.Evidence.Core.Services;

namespace Aims.Evidence.Core.Tasks;

/// <summary>
/// An open task: an entry with an owner whose gap status is missing, weak, stale or a nonconformity. Tasks are not
/// stored; they follow from the gap report and the owners, so closing the gap closes the task.
/// </summary>
public sealed record OwnerTask(string EntryId, string Title, GapStatus Status, string StatusReason, string Owner, DateOnly DueDate, bool Overdue);

/// <summary>Section <c>Aims:Tasks</c>.</summary>
public sealed class TaskOptions
{
    public const string Section = "Aims:Tasks";

    /// <summary>
    /// Days from an owner's assignment to a task's due date when the owner was given none; null (the default): the
    /// review period of the gap analysis (365 days).
    /// </summary>
    public int? DefaultDueDays { get; set; }
}

/// <summary>Derives the open tasks from a gap report and the entries' owners.</summary>
public static class OwnerTasks
{
    /// <summary>The statuses that make an owned entry an open task.</summary>
    public static IReadOnlySet<GapStatus> OpenStatuses { get; } = new HashSet<GapStatus> { GapStatus.Nonconformity, GapStatus.Missing, GapStatus.Stale, GapStatus.Weak };

    /// <summary>
    /// Every open task: nonconformities first, then overdue before on time, earliest due date first. A task is overdue
    /// from the day after its due date.
    /// </summary>
    public static IReadOnlyList<OwnerTask> Derive(GapReport report, DateOnly today, TimeSpan defaultDue)
    {
        ArgumentNullException.ThrowIfNull(report);
        return report.Entries
            .Where(g => !g.Entry.Container && OpenStatuses.Contains(g.Status) && g.Owner is not null)
            .Select(g =>
            {
                var owner = g.Owner!;
                var due = owner.DueDate ?? DateOnly.FromDateTime(owner.At.UtcDateTime.Add(defaultDue));
                return new OwnerTask(g.Entry.Id, g.Entry.Title, g.Status, g.Reason, owner.Owner, due, due < today);
            })
            .OrderBy(t => t.Status != GapStatus.Nonconformity)
            .ThenByDescending(t => t.Overdue)
            .ThenBy(t => t.DueDate)
            .ThenBy(t => t.EntryId, StringComparer.Ordinal)
            .ToArray();
    }

    /// <summary>The open tasks now (<paramref name="time"/>'s UTC date), over the service's gap report (which carries the owners).</summary>
    public static async Task<IReadOnlyList<OwnerTask>> ListAsync(EvidenceService evidence, TimeProvider time, TaskOptions? options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(evidence);
        ArgumentNullException.ThrowIfNull(time);
        var report = await evidence.GetGapReportAsync(cancellationToken).ConfigureAwait(false);
        return Derive(report, Today(time), DefaultDue(evidence, options));
    }

    public static DateOnly Today(TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(time);
        return DateOnly.FromDateTime(time.GetUtcNow().UtcDateTime);
    }

    public static TimeSpan DefaultDue(EvidenceService evidence, TaskOptions? options)
    {
        ArgumentNullException.ThrowIfNull(evidence);
        return options?.DefaultDueDays is { } days ? TimeSpan.FromDays(days) : evidence.ReviewPeriod;
    }
}
