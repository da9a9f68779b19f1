using Aims.Evidence.Core.Catalog;
using Aims.Evidence.Core.Extraction;
using Aims.Evidence.Core.Mapping;
using Aims.Evidence.Core.Segmentation;
using Aims.Evidence.Onnx;

namespace Aims.Evidence.Tests.Mapping;

[Trait(Tiers.Name, Tiers.Integration)]
public sealed class HybridControlMapperTests : IDisposable
{
    private readonly LocalEmbeddingGenerator _generator = new();

    private static Passage P(string text, params string[] headings) => new(0, text, 1, headings, 0, text.Length, BlockKind.Paragraph);

    [Fact]
    public async Task Maps_typical_evidence_with_a_checkable_rationale_and_stays_silent_on_boilerplate()
    {
        var mapper = new HybridControlMapper(_generator);
        var context = new MappingContext("card.md", "model-card", 0.9, true);
        var passages = new[]
        {
            P("The model is intended to help underwriters prioritise consumer loan applications for manual review. It must not be used to make final credit decisions, for employment screening or for any purpose outside lending.", "Model card", "Intended use"),
            P("The model was evaluated on a held-out test set of 40,000 applications drawn from 2024; it reached an AUC of 0.81, and the approval-rate ratio between age groups stayed above 0.8.", "Model card", "Evaluation"),
            P("Copyright 2026 Example Ltd. All rights reserved. Licensed under the Apache License, Version 2.0; see the LICENSE file for details.", "Model card", "License"),
            P("Thanks to everyone who contributed feedback.", "Model card", "Acknowledgements"),
        };

        var result = await mapper.MapAsync(passages, context, TestContext.Current.CancellationToken);

        Assert.Contains(result[0], s => s.ControlId == "A.9.4");
        Assert.Contains(result[1], s => s.ControlId == "A.6.2.4");
        Assert.Empty(result[2]);
        Assert.Empty(result[3]);
        foreach (var s in result.SelectMany(r => r))
        {
            Assert.InRange(s.Score, 0, 1);
            Assert.Equal(MappingMethods.Embedded, s.Method);
            Assert.Contains("closest profile statement", s.Rationale, StringComparison.Ordinal);
            Assert.True(IsoCatalog.Default.Contains(s.ControlId));
        }

        Assert.All(result, r => Assert.True(r.Count <= 3));
        Assert.All(result, r => Assert.Equal(r.OrderByDescending(s => s.Score).Select(s => s.ControlId), r.Select(s => s.ControlId)));
    }

    [Fact]
    public async Task Unrelated_documents_get_no_mappings()
    {
        var mapper = new HybridControlMapper(_generator);
        var passages = new[] { P("All staff must complete the annual risk and compliance training before the end of March, and managers must review the results.") };
        var result = await mapper.MapAsync(passages, new MappingContext("memo.txt", "unrelated", 0.9, false), TestContext.Current.CancellationToken);
        Assert.Empty(result[0]);
    }

    public void Dispose() => _generator.Dispose();
}
