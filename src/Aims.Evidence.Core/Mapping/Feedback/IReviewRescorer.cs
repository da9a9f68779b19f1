using Aims.Evidence.Core.Mapping.Trained;
using Aims.Evidence.Core.Segmentation;

namespace Aims.Evidence.Core.Mapping.Feedback;

/// <summary>
/// A mapper that learns from the reviews of its own deployment: reviewed passages join its labelled passages (an
/// accepted or hand-added entry makes the passage an example of that entry; a passage whose every suggestion was
/// rejected, an example of no evidence), and stored passages are re-scored from their kept vectors, without encoding
/// anything again.
/// </summary>
public interface IReviewRescorer
{
    /// <summary>The reviewed passages as labelled examples; null when no decision carries the vectors it needs.</summary>
    ExemplarBank? Learn(IReadOnlyList<ReviewDecision> decisions);

    /// <summary>
    /// One document's passages (all of them, in order) with their stored candidates, re-scored with
    /// <paramref name="reviewed"/>: each entry's probability moves by what the reviewed passages change in the model's
    /// log-odds, and <see cref="PassageCandidates.Notes"/> says why. A document whose passages lack stored vectors keeps
    /// its candidates.
    /// </summary>
    IReadOnlyList<PassageCandidates?> Rescore(IReadOnlyList<Passage> passages, IReadOnlyList<PassageCandidates?> candidates, ExemplarBank reviewed);
}

/// <summary>Finds the mapper that can learn from reviews under the wrappers a host puts around it.</summary>
public static class ReviewRescorers
{
    public static IReviewRescorer? Find(IControlMapper? mapper) => mapper switch
    {
        IReviewRescorer r => r,
        PolarityMapper p => Find(p.Inner),
        _ => null,
    };
}
