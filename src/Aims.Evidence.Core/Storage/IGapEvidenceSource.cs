namespace Aims.Evidence.Core.Storage;

/// <summary>
/// One catalog entry's evidence in one current, processed document, aggregated over the non-rejected supporting mappings of
/// that entry (for a container: of the container and its children) to the document's passages.
/// </summary>
/// <param name="Passages">Distinct passages of the document with such a mapping.</param>
/// <param name="MaxScore">Highest mapping score.</param>
/// <param name="AnyAccepted">Whether a reviewer accepted one of the mappings.</param>
public sealed record EntryDocumentEvidence(string EntryId, string DocumentId, int Passages, double MaxScore, bool AnyAccepted);

/// <summary>
/// What gap analysis needs, read in one snapshot: the current documents, the per entry and document aggregates,
/// and per entry its best link (accepted first, then highest score, then lowest mapping id, ordinal).
/// </summary>
public sealed record GapEvidence(
    IReadOnlyList<DocumentRecord> CurrentDocuments,
    IReadOnlyList<EntryDocumentEvidence> Rows,
    IReadOnlyDictionary<string, EvidenceLink> Best)
{
    /// <summary>Non-rejected findings (mappings that state a control is absent or failed) of current, processed documents.</summary>
    public IReadOnlyList<EvidenceLink> Findings { get; init; } = [];
}

/// <summary>
/// A store that maintains gap-analysis aggregates at write time (in the write's own transaction), so a gap report
/// after a write reads a few rows per entry and document instead of every mapping. Optional: stores without it
/// (Azure Table Storage) are analysed from <see cref="IEvidenceStore.GetEvidenceAsync"/>, with the same result.
/// </summary>
public interface IGapEvidenceSource
{
    /// <param name="containerOf">Child control id to the id of its container entry: a container's evidence is its own plus its children's.</param>
    Task<GapEvidence> GetGapEvidenceAsync(IReadOnlyDictionary<string, string> containerOf, CancellationToken cancellationToken = default);
}
