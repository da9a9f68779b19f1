using Aims.Evidence.Core.Segmentation;

namespace Aims.Evidence.Core.Mapping;

/// <summary>
/// A mapper that can offer ranked candidates to a judge (the LLM mapper) and say which of them it would suggest itself
/// (the judge's fallback).
/// </summary>
public interface ICandidateProposer : IControlMapper
{
    /// <summary>How many candidates per passage to offer a judge (the trained model's: the right entry among them for 95% of labelled passages).</summary>
    int RecommendedCandidates { get; }

    /// <summary>The <paramref name="k"/> best entries per passage, score-descending, without the suggestion threshold.</summary>
    Task<IReadOnlyList<IReadOnlyList<MappingSuggestion>>> ProposeCandidatesAsync(
        IReadOnlyList<Passage> passages,
        MappingContext context,
        int k,
        CancellationToken cancellationToken = default);

    /// <summary>Of a passage's candidates, the suggestions <see cref="IControlMapper.MapAsync"/> would have made.</summary>
    IReadOnlyList<MappingSuggestion> SelectSuggestions(IReadOnlyList<MappingSuggestion> candidates);
}
