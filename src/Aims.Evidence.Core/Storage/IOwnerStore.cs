namespace Aims.Evidence.Core.Storage;

/// <summary>
/// Who answers for a catalog entry, and by when its gap should be closed (<see cref="DueDate"/> null: the default due
/// date, counted from <see cref="At"/>, the assignment).
/// </summary>
public sealed record EntryOwner(string ControlId, string Owner, DateOnly? DueDate, string Actor, DateTimeOffset At);

/// <summary>Entry owners (one per entry, the latest wins); every change is audited in the same store.</summary>
public interface IOwnerStore
{
    Task<IReadOnlyList<EntryOwner>> ListOwnersAsync(CancellationToken cancellationToken = default);

    /// <summary>Records the owner of the entry (replacing an earlier one) and appends an audit entry (<c>control.owner</c>).</summary>
    Task<EntryOwner> SetOwnerAsync(string controlId, string owner, DateOnly? dueDate, string actor, CancellationToken cancellationToken = default);

    /// <summary>Removes the entry's owner (audited when there was one); false when it had none.</summary>
    Task<bool> ClearOwnerAsync(string controlId, string actor, CancellationToken cancellationToken = default);
}

/// <summary>A digest of one day: when it was claimed for sending and the entries that were gaps then.</summary>
public sealed record DigestRecord(DateOnly Day, DateTimeOffset At, IReadOnlyList<string> Gaps);

/// <summary>
/// The days a digest went out: at most one per day, whichever host (or instance) claims the day first sends it.
/// </summary>
public interface IDigestStore
{
    /// <summary>Claims <paramref name="day"/> with the day's gaps; false when the day was already claimed.</summary>
    Task<bool> TryClaimDigestAsync(DateOnly day, IReadOnlyList<string> gaps, CancellationToken cancellationToken = default);

    /// <summary>Gives a claimed day back (its digest could not be delivered), so a later run may send it.</summary>
    Task ReleaseDigestAsync(DateOnly day, CancellationToken cancellationToken = default);

    /// <summary>The newest digest before <paramref name="day"/>, if any.</summary>
    Task<DigestRecord?> GetLastDigestBeforeAsync(DateOnly day, CancellationToken cancellationToken = default);
}
