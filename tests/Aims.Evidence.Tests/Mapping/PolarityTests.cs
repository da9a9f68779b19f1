using Aims.Evidence.Core.Catalog;
using Aims.Evidence.Core.Extraction;
using Aims.Evidence.Core.Mapping;
using Aims.Evidence.Core.Mapping.Trained;
using Aims.Evidence.Core.Segmentation;

namespace Aims.Evidence.Tests.Mapping;

/// <summary>The shipped polarity model on passages of our own writing (never from the evaluation or training data).</summary>
public sealed class PolarityTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static PolarityModel Model()
    {
        var model = TrainedModel.LoadEmbedded()?.Polarity;
        Assert.NotNull(model);
        return model;
    }

    private static Passage P(int ordinal, string heading, string text) => new(ordinal, text, 1, [heading], ordinal * 1000, text.Length, BlockKind.Paragraph);

    public static TheoryData<string, string> Findings => new()
    {
        { "Audit findings", "Minor nonconformity: the management review planned for March has not been held, and no minutes of any review since 2024 could be shown to the auditor." },
        { "Nonconformities", "No competence records could be evidenced for the two data scientists who retrained the claims model; the training plan was not updated after the reorganisation." },
        { "Follow-up of actions", "Action 4 (supplier reassessment of the speech vendor) is overdue since June and remains open." },
    };

    public static TheoryData<string, string> Supports => new()
    {
        { "Management review", "Top management reviews the AI management system twice a year; the minutes record decisions on objectives, resources and improvement actions." },
        { "Competence", "Every engineer who trains or deploys a model completes the responsible AI course within three months of joining, and HR keeps the records." },
        { "Suppliers", "Suppliers of AI components are assessed before contract signature and every year thereafter against our responsible AI requirements." },
    };

    [Theory]
    [MemberData(nameof(Findings))]
    public void Passages_stating_a_control_is_absent_or_failed_are_findings(string heading, string text)
    {
        var model = Model();
        var p = model.Probability([heading], text, "audit-report");
        Assert.True(p >= model.Threshold, $"{p:0.000} < {model.Threshold:0.00}");
    }

    [Theory]
    [MemberData(nameof(Supports))]
    public void Passages_showing_a_control_in_place_support_it(string heading, string text)
    {
        var model = Model();
        var p = model.Probability([heading], text, "audit-report");
        Assert.True(p < model.Threshold, $"{p:0.000} >= {model.Threshold:0.00}");
    }

    [Fact]
    public void Features_are_stable_normalised_and_read_contractions_as_not()
    {
        var a = PolarityModel.Features(["Findings"], "The review hasn't been held.", "audit-report");
        var b = PolarityModel.Features(["Findings"], "The review has not been held.", "audit-report");
        Assert.Equal(a, b);
        Assert.Equal(1.0, Math.Sqrt(a.Take(PolarityModel.Buckets).Sum(x => x * x)), 6);
        Assert.Equal(PolarityModel.Dimensions, a.Length);
        Assert.True(a.Skip(PolarityModel.Buckets).Sum() > 0); // the cue block sees "not" and "has not"
        Assert.All(PolarityModel.Features([], string.Empty, null), x => Assert.Equal(0, x));
    }

    [Fact]
    public async Task The_polarity_mapper_marks_every_suggestion_of_a_finding_passage_and_explains_it()
    {
        var mapper = new PolarityMapper(new LexicalControlMapper(IsoCatalog.Default), Model());
        var passages = new[]
        {
            P(0, "Audit findings", "Major nonconformity: the AI risk assessment of the pricing model has not been performed, and no risk treatment plan exists for it."),
            P(1, "Risk assessment", "AI risks are identified, analysed and evaluated for every AI system before deployment using the risk criteria approved by the board, and the risk treatment plan is reviewed quarterly."),
        };
        var result = await mapper.MapAsync(passages, new MappingContext("audit.md", "audit-report", 0.9, true), Ct);
        Assert.NotEmpty(result[0]);
        Assert.NotEmpty(result[1]);
        Assert.All(result[0], s =>
        {
            Assert.Equal(MappingPolarity.Finding, s.Polarity);
            Assert.Contains("A finding: the passage states the control is absent, failed or nonconforming", s.Rationale, StringComparison.Ordinal);
        });
        Assert.All(result[1], s => Assert.Equal(MappingPolarity.Supports, s.Polarity));
    }
}
