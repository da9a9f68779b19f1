using Aims.Evidence.Core.Extraction;
using Aims.Evidence.Core.Mapping;
using Aims.Evidence.Core.Mapping.Trained;
using Aims.Evidence.Core.Segmentation;
using Aims.Evidence.Onnx;

namespace Aims.Evidence.Tests.Mapping;

/// <summary>The shipped trained mapper on passages of our own writing (never from the evaluation or training data).</summary>
public sealed class TrainedControlMapperTests : IDisposable
{
    private readonly LocalEmbeddingGenerator _mini = new(LocalEmbeddingModel.MiniLM);
    private readonly LocalEmbeddingGenerator _arctic = new(LocalEmbeddingModel.ArcticXs);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private TrainedControlMapper Mapper()
    {
        var model = TrainedModel.LoadEmbedded();
        Assert.NotNull(model);
        return new TrainedControlMapper(model, new PassageEncoder(_mini, _arctic));
    }

    private static Passage P(int ordinal, string heading, string text) => new(ordinal, text, 1, [heading], ordinal * 1000, text.Length, BlockKind.Paragraph);

    [Fact]
    public async Task Maps_evidence_with_calibrated_probabilities_and_traceable_rationales()
    {
        var mapper = Mapper();
        var passages = new[]
        {
            P(0, "Supplier management", "Before a contract is signed, every supplier of AI models or AI-enabled services is assessed against our responsible AI requirements, and the assessment is repeated every year by procurement."),
            P(1, "Internal audit", "The internal audit programme covers the AI management system every twelve months; auditors are independent of the audited area and report results to the executive board."),
            P(2, "Canteen", "The staff canteen is open from noon to two o'clock on weekdays and offers a vegetarian dish every day."),
        };
        var result = await mapper.MapAsync(passages, new MappingContext("policy.md", "policy", 0.9, true), Ct);

        Assert.Contains(result[0].Take(3), s => s.ControlId == "A.10.3");
        Assert.Contains(result[1].Take(3), s => s.ControlId.StartsWith("9.2", StringComparison.Ordinal));
        Assert.Empty(result[2]);
        Assert.All(result.SelectMany(r => r), s =>
        {
            Assert.InRange(s.Score, mapper.Model.Threshold, 1);
            Assert.Equal(MappingMethods.Trained, s.Method);
            Assert.Equal("aims-mapper@" + mapper.Model.Version, s.Model);
            Assert.Contains("nearest labelled training passage", s.Rationale, StringComparison.Ordinal);
        });
        Assert.All(result, r => Assert.True(r.Count <= mapper.Model.MaxSuggestions));
    }

    [Fact]
    public async Task Offers_its_recommended_number_of_candidates_and_suggests_from_them()
    {
        var mapper = Mapper();
        var passages = new[] { P(0, "Monitoring", "Model performance, drift and complaint rates are monitored monthly after deployment, and alerts go to the model owner.") };
        var context = new MappingContext("procedure.md", "procedure", 0.9, true);
        var candidates = await mapper.ProposeCandidatesAsync(passages, context, mapper.RecommendedCandidates, Ct);
        Assert.Equal(mapper.RecommendedCandidates, candidates[0].Count);
        Assert.Equal(candidates[0].OrderByDescending(c => c.Score).Select(c => c.ControlId), candidates[0].Select(c => c.ControlId));
        var suggested = await mapper.MapAsync(passages, context, Ct);
        Assert.Equal(suggested[0].Select(s => s.ControlId), mapper.SelectSuggestions(candidates[0]).Select(s => s.ControlId));
    }

    [Fact]
    public async Task Unrelated_documents_get_nothing()
    {
        var mapper = Mapper();
        var passages = new[] { P(0, "Risk", "Risks to the AI system are assessed with likelihood and impact and treated by owners.") };
        var result = await mapper.MapAsync(passages, new MappingContext("memo.txt", "unrelated", 0.9, false), Ct);
        Assert.Empty(result[0]);
    }

    public void Dispose()
    {
        _mini.Dispose();
        _arctic.Dispose();
    }
}
