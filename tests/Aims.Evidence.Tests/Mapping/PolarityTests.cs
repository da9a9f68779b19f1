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

    /// <summary>How the product sees a document typed audit report at 0.5 confidence (the model reads type probabilities).</summary>
    private static double[] AuditReport => PolarityModel.TypeProbabilities("audit-report", 0.5);

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
        var p = model.Probability([heading], text, "audit-report", AuditReport);
        Assert.True(p >= model.Threshold, $"{p:0.000} < {model.Threshold:0.00}");
    }

    [Theory]
    [MemberData(nameof(Supports))]
    public void Passages_showing_a_control_in_place_support_it(string heading, string text)
    {
        var model = Model();
        var p = model.Probability([heading], text, "audit-report", AuditReport);
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

    private static Passage H(int ordinal, string text, params string[] headings) => new(ordinal, text, 1, headings, ordinal * 1000, text.Length, BlockKind.Paragraph);

    private static (IReadOnlyList<string> Headings, string Text)[] Rows(IEnumerable<Passage> passages) => [.. passages.Select(p => (p.Headings, p.Text))];

    /// <summary>A security review of our own writing: an introduction, a write-up with its fields in the text, one whose field names were laid out as headings, and a risk register row.</summary>
    private static Passage[] Review() =>
    [
        H(0, "We rate every issue by severity and report it to the maintainers before publication.", "Review of the Larkspur scheduler", "Introduction"),
        H(1, "Severity: High. Status: Open. Component: job API. The job API accepts a container image from any caller and runs it with the cluster administrator's service account, so any user can take over the cluster.", "Review of the Larkspur scheduler", "LRK-01: Jobs run as cluster administrator"),
        H(2, "def submit(job):\n    pod = build_pod(job.image, service_account=\"cluster-admin\")\n    api.create(pod)", "Review of the Larkspur scheduler", "LRK-01: Jobs run as cluster administrator", "Affected code"),
        H(3, "Moderate", "Review of the Larkspur scheduler", "LRK-02: Session tokens never expire", "Severity"),
        H(4, "Session tokens issued by the login service stay valid forever; a token copied from a log file still works months later.", "Review of the Larkspur scheduler", "LRK-02: Session tokens never expire", "Component"),
        H(5, "Severity: Low. The overall severity of the findings is summarised above.", "Review of the Larkspur scheduler"),
    ];

    [Fact]
    public void Records_group_the_passages_of_each_write_up_under_its_severity_field()
    {
        var records = PolarityModel.Records(Rows(Review()));

        Assert.Equal(-1, records[0]); // "by severity" names no level
        Assert.True(records[1] >= 0);
        Assert.Equal(records[1], records[2]); // the code listing below the write-up's heading
        Assert.True(records[3] >= 0); // a "Severity" heading with the level as its text
        Assert.Equal(records[3], records[4]);
        Assert.NotEqual(records[1], records[3]);
        Assert.Equal(-1, records[5]); // directly under the document's title: not one record
        Assert.Equal([false, true, true, true, true, false], PolarityModel.InRecords(Rows(Review())));
    }

    [Fact]
    public void Pooling_raises_a_record_s_passages_to_its_mean_and_leaves_the_rest_alone()
    {
        var pooled = PolarityModel.Pool([-1, 0, 0, 0, 1, 1], [0.9, 0.9, 0.6, 0.0, 0.2, 0.4]);

        Assert.Equal([0.9, 0.9, 0.6, 0.5, 0.3, 0.4], pooled.Select(p => Math.Round(p, 6)));
    }

    [Fact]
    public void A_code_listing_inside_a_finding_write_up_is_a_finding_and_the_introduction_is_not()
    {
        var model = Model();
        var passages = Review();
        var p = model.Probabilities(passages, "audit-report", AuditReport);

        Assert.True(p[1] >= model.Threshold, $"write-up {p[1]:0.000} < {model.Threshold:0.00}");
        Assert.True(p[2] >= model.Threshold, $"code listing {p[2]:0.000} < {model.Threshold:0.00}");
        Assert.True(p[0] < model.Threshold, $"introduction {p[0]:0.000} >= {model.Threshold:0.00}");
    }

    [Fact]
    public void A_passage_raised_by_its_record_names_the_record_in_its_reason()
    {
        var scores = Model().Score(Review(), "audit-report", AuditReport);
        var raised = scores.Select((s, i) => (s, i)).Where(x => x.s.Record is not null).ToArray();

        Assert.Contains(raised, x => x.i == 2 && x.s.Record == "LRK-01: Jobs run as cluster administrator"); // the code listing
        Assert.All(raised, x => Assert.Contains(x.i, new[] { 1, 2, 3, 4 }));
        Assert.All(raised, x => Assert.StartsWith("LRK-0", x.s.Record, StringComparison.Ordinal));
        Assert.Null(scores[0].Record);
        Assert.Contains("belongs to the finding record \"LRK-01: Jobs run as cluster administrator\"", PolarityMapper.FindingReason(0.5, "LRK-01: Jobs run as cluster administrator"), StringComparison.Ordinal);
        Assert.DoesNotContain("record", PolarityMapper.FindingReason(0.5), StringComparison.Ordinal);
    }
}
