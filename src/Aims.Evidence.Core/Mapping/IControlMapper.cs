using Aims.Evidence.Core.Mapping.Feedback;
using Aims.Evidence.Core.Segmentation;

namespace Aims.Evidence.Core.Mapping;

/// <summary>What a mapper knows about the document a batch of passages comes from.</summary>
public sealed record MappingContext(string DocumentName, string DocType, double DocTypeConfidence, bool AiRelevant)
{
    /// <summary>Id of the document version being written, when the pipeline knows it (usage is recorded against it).</summary>
    public string? DocumentId { get; init; }

    /// <summary>The ingestion run, when there is one (token budgets and usage are per run).</summary>
    public string? RunId { get; init; }

    /// <summary>
    /// Where a mapper that scores every entry leaves each passage's best entries (also those under its threshold), so
    /// reviews can re-rank the passage later; null when the caller does not keep them.
    /// </summary>
    public CandidateSink? Candidates { get; init; }

    /// <summary>
    /// The review decisions of this database, for a mapper that shows a model how reviewers decided on similar passages
    /// (the LLM judge); null when the store keeps no reviews.
    /// </summary>
    public Feedback.ReviewMemory? Reviews { get; init; }
}

/// <summary>Maps passages to ISO/IEC 42001 entries. Returns, per passage and in order, the suggestions it stands behind (score-descending).</summary>
public interface IControlMapper
{
    /// <summary>Name recorded on runs and in status output, e.g. "lexical-bm25" or "hybrid-minilm".</summary>
    string Name { get; }

    Task<IReadOnlyList<IReadOnlyList<MappingSuggestion>>> MapAsync(
        IReadOnlyList<Passage> passages,
        MappingContext context,
        CancellationToken cancellationToken = default);
}
