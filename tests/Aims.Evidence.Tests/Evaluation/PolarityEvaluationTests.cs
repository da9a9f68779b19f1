using Aims.Evidence.Core.Evaluation;
using Aims.Evidence.Core.Mapping;

namespace Aims.Evidence.Tests.Evaluation;

public sealed class PolarityEvaluationTests
{
    [Fact]
    public void Passages_take_the_judged_span_that_covers_most_of_them_and_count_findings_against_it()
    {
        PolarityLabel[] labels = [new(0, 100, true), new(100, 100, false), new(200, 100, true), new(300, 100, false)];
        PolarityPrediction[] produced =
        [
            new(0, 100, true), // finding, predicted finding
            new(100, 60, true), // supports, predicted finding
            new(160, 40, false), // supports, predicted supports
            new(200, 100, false), // finding, missed
            new(280, 100, null), // mostly the supporting span (80 of 100): no polarity decided
            new(500, 50, true), // no judged span: not counted
            new(395, 40, true), // 5 of 40 covered: under half, not counted
        ];

        var score = PolarityEvaluation.Score([(labels, produced)]);

        Assert.Equal(5, score.Passages);
        Assert.Equal(2, score.Findings);
        Assert.Equal(1, score.TruePositives);
        Assert.Equal(1, score.FalsePositives);
        Assert.Equal(1, score.Undecided);
        Assert.Equal(0.5, score.Precision, 9);
        Assert.Equal(0.5, score.Recall, 9);
        Assert.Equal(0, PolarityEvaluation.Score([]).Precision);
    }

    [Fact]
    public void The_judges_polarity_decides_where_it_mapped_the_passage_and_the_kept_probability_elsewhere()
    {
        (string, MappingPolarity) Llm(MappingPolarity p) => (MappingMethods.Llm, p);
        (string, MappingPolarity) Trained(MappingPolarity p) => (MappingMethods.Trained, p);

        Assert.True(PolarityEvaluation.Decided(false, [Llm(MappingPolarity.Supports), Llm(MappingPolarity.Finding)]));
        Assert.False(PolarityEvaluation.Decided(true, [Llm(MappingPolarity.Supports), Trained(MappingPolarity.Finding)]));
        Assert.True(PolarityEvaluation.Decided(true, [Trained(MappingPolarity.Supports)]));
        Assert.False(PolarityEvaluation.Decided(null, [Trained(MappingPolarity.Supports)]));
        Assert.True(PolarityEvaluation.Decided(null, [Trained(MappingPolarity.Finding)]));
        Assert.Null(PolarityEvaluation.Decided(null, []));
    }
}
