namespace Aims.Evidence.Core.Storage;

/// <summary>
/// A reviewer's decision that a catalog entry is (or is not) applicable to the organisation, with the justification
/// ISO/IEC 42001 6.1.3 asks the Statement of Applicability to give for every inclusion and exclusion.
/// </summary>
public sealed record ApplicabilityDecision(string ControlId, bool Applicable, string Justification, string Actor, DateTimeOffset At);

/// <summary>Applicability decisions (one per entry, the latest wins); every change is audited in the same store.</summary>
public interface IApplicabilityStore
{
    Task<IReadOnlyList<ApplicabilityDecision>> ListApplicabilityAsync(CancellationToken cancellationToken = default);

    /// <summary>Records the decision for the entry (replacing an earlier one) and appends an audit entry.</summary>
    Task<ApplicabilityDecision> SetApplicabilityAsync(string controlId, bool applicable, string justification, string actor, CancellationToken cancellationToken = default);
}
