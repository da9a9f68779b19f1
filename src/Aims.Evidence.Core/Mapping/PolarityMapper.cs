using System.Globalization;
using Aims.Evidence.Core.Mapping.Trained;
using Aims.Evidence.Core.Segmentation;

namespace Aims.Evidence.Core.Mapping;

/// <summary>
/// Gives every suggestion of a mapper its polarity: when the passage states that a control is absent, failed, overdue
/// or nonconforming (the trained <see cref="PolarityModel"/>'s probability at or above its threshold), its suggestions
/// are findings, and the rationale says so with the probability. A suggestion whose mapper judged its polarity itself
/// (<see cref="MappingSuggestion.PolarityDecided"/>: the LLM judge, per passage and entry) keeps it. Wraps whichever
/// mapper the host built.
/// </summary>
public sealed class PolarityMapper(IControlMapper inner, PolarityModel model) : IControlMapper
{
    public string Name => inner.Name;

    /// <summary>The mapper whose suggestions this one qualifies.</summary>
    public IControlMapper Inner => inner;

    public PolarityModel Model => model;

    public async Task<IReadOnlyList<IReadOnlyList<MappingSuggestion>>> MapAsync(IReadOnlyList<Passage> passages, MappingContext context, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(passages);
        var mapped = await inner.MapAsync(passages, context, cancellationToken).ConfigureAwait(false);
        var result = new IReadOnlyList<MappingSuggestion>[mapped.Count];
        // The type probabilities of the classifier that typed these passages (a trained classifier remembers them);
        // without them, the decided type at its confidence.
        var scores = model.Score(passages, context.DocType, DocumentTypeSignals.RecallDecided(passages) ?? PolarityModel.TypeProbabilities(context.DocType, context.DocTypeConfidence));
        for (var i = 0; i < mapped.Count; i++)
        {
            // Reviews may later raise an entry of a passage without suggestions: with a sink, its polarity is decided now too.
            var sink = context.Candidates is { } s && s[i] is not null ? s : null;
            if (mapped[i].Count == 0 && sink is null)
            {
                result[i] = mapped[i];
                continue;
            }

            var p = scores[i].Probability;
            result[i] = Qualify(scores[i], mapped[i]);
            sink?.RecordFinding(i, p, model.Threshold);
        }

        return result;
    }

    /// <summary>
    /// The sentence a finding's rationale ends with, with the polarity model's probability (truncated) and, when the
    /// passage is a finding because of the record it lies in (a write-up's code listing), that record's heading.
    /// </summary>
    public static string FindingReason(double probability, string? record = null) => record is null
        ? string.Create(CultureInfo.InvariantCulture, $" A finding: the passage states the control is absent, failed or nonconforming (probability {Math.Floor(probability * 100) / 100:0.00}).")
        : string.Create(CultureInfo.InvariantCulture, $" A finding: the passage belongs to the finding record \"{record}\" (a section opened by a severity field), which as a whole states the control is absent, failed or nonconforming (probability {Math.Floor(probability * 100) / 100:0.00}).");

    private IReadOnlyList<MappingSuggestion> Qualify(PolarityScore score, IReadOnlyList<MappingSuggestion> suggestions)
    {
        if (score.Probability < model.Threshold || suggestions.Count == 0)
        {
            return suggestions;
        }

        var why = FindingReason(score.Probability, score.Record);
        return [.. suggestions.Select(s => s.PolarityDecided ? s : s with { Polarity = MappingPolarity.Finding, Rationale = s.Rationale + why })];
    }
}
