using Aims.Evidence.Core.Catalog;
using Aims.Evidence.Core.Mapping;
using Aims.Evidence.Core.Mapping.Feedback;

namespace Aims.Evidence.Tests.Mapping;

/// <summary>How review decisions move a passage's candidates (passages of our own writing).</summary>
public sealed class ReviewMemoryTests
{
    private const string Supplier = "Suppliers of AI components are assessed before contract signature and every year thereafter against our responsible AI requirements.";
    private const string SupplierLike = "Every supplier of AI components is assessed against our responsible AI requirements before the contract is signed and again each year.";
    private const string Unrelated = "The canteen opens at eight and serves breakfast until half past ten on weekdays.";

    private static readonly IsoCatalog Catalog = IsoCatalog.Default;

    private static PassageCandidates Candidates(params (string Id, double P)[] entries) => new()
    {
        Threshold = 0.4,
        MaxSuggestions = 3,
        Method = MappingMethods.Trained,
        Model = "aims-mapper@test",
        Entries = [.. entries.Select(e => new EntryScore(e.Id, e.P))],
    };

    private static IReadOnlyList<MappingSuggestion> Base(PassageCandidates c) =>
        [.. c.Select(c.Entries).Select(e => new MappingSuggestion(e.ControlId, e.Probability, c.Method, $"{e.ControlId}: model") { Model = c.Model })];

    private static ReviewDecision D(string text, string control, bool accepted, string passage = "p1") =>
        new(passage, "suppliers.md", 2, ["Suppliers"], text, control, accepted);

    [Fact]
    public void Without_decisions_the_suggestions_are_the_candidates_rule()
    {
        var c = Candidates(("A.10.3", 0.55), ("A.10.2", 0.3));
        var result = ReviewMemory.Empty.Apply(["Suppliers"], Supplier, c, Base(c), Catalog);
        Assert.Equal(Base(c), result);
        Assert.Equal(["A.10.3"], result.Select(s => s.ControlId));
    }

    [Fact]
    public void A_reviewers_reading_of_a_passage_as_support_or_finding_holds_for_the_same_text_and_not_for_a_similar_one()
    {
        const string Limitation = "The model has not been tested on applicants who are self-employed; their scores are reviewed by hand.";
        var c = Candidates(("A.8.2", 0.6), ("A.6.2.4", 0.5));
        IReadOnlyList<MappingSuggestion> Findings() => [.. Base(c).Select(s => s with { Polarity = MappingPolarity.Finding, Rationale = s.Rationale + PolarityMapper.FindingReason(0.56) })];

        // The reviewer accepted A.8.2 as support (a disclosed limitation), and kept A.6.2.4 a finding.
        var memory = ReviewMemory.Build([D(Limitation, "A.8.2", accepted: true) with { Polarity = MappingPolarity.Supports }, D(Limitation, "A.6.2.4", accepted: true) with { Polarity = MappingPolarity.Finding }]);
        var result = memory.Apply(["Limitations"], Limitation, c, Findings(), Catalog);
        var support = Assert.Single(result, s => s.ControlId == "A.8.2");
        Assert.Equal(MappingPolarity.Supports, support.Polarity);
        Assert.DoesNotContain("A finding:", support.Rationale, StringComparison.Ordinal);
        Assert.Contains("accepted as support, not a finding, for a passage with the same text", support.Rationale, StringComparison.Ordinal);
        Assert.Equal(MappingPolarity.Finding, Assert.Single(result, s => s.ControlId == "A.6.2.4").Polarity);

        // The model read a finding (its probability kept with the candidates); applied to its own output again, the
        // reading and its reason stay.
        var modelFinding = c with { Finding = 0.56, FindingThreshold = 0.18 };
        var once = memory.Apply(["Limitations"], Limitation, modelFinding, Findings(), Catalog);
        var twice = memory.Apply(["Limitations"], Limitation, modelFinding, once, Catalog);
        Assert.Equal(once, twice);
        Assert.Contains("accepted as support, not a finding", Assert.Single(twice, s => s.ControlId == "A.8.2").Rationale, StringComparison.Ordinal);

        // The reverse: a support read as a finding.
        var flipped = ReviewMemory.Build([D(Supplier, "A.10.3", accepted: true) with { Polarity = MappingPolarity.Finding }]);
        var s2 = Candidates(("A.10.3", 0.7));
        Assert.Equal(MappingPolarity.Finding, Assert.Single(flipped.Apply(["Suppliers"], Supplier, s2, Base(s2), Catalog)).Polarity);

        // A merely similar passage keeps the model's polarity: the reading was of that text.
        Assert.Equal(MappingPolarity.Supports, Assert.Single(flipped.Apply(["Suppliers"], SupplierLike, s2, Base(s2), Catalog), s => s.ControlId == "A.10.3").Polarity);
    }

    [Fact]
    public void A_rejected_pairing_is_never_suggested_again_for_the_same_text()
    {
        var memory = ReviewMemory.Build([D(Supplier, "A.10.3", accepted: false)]);
        var c = Candidates(("A.10.3", 0.99), ("A.10.2", 0.45));

        // Same text in another passage (a new version of the document): the rejected entry is gone, however sure the model is.
        var result = memory.Apply(["Suppliers"], Supplier.ToUpperInvariant(), c, Base(c), Catalog);
        Assert.DoesNotContain(result, s => s.ControlId == "A.10.3");
        Assert.Contains(result, s => s.ControlId == "A.10.2");
    }

    [Fact]
    public void An_entry_accepted_on_a_similar_passage_is_raised_over_the_threshold_with_the_reason()
    {
        var memory = ReviewMemory.Build([D(Supplier, "A.10.3", accepted: true)]);
        var c = Candidates(("A.10.2", 0.5), ("A.10.3", 0.3));
        Assert.DoesNotContain(Base(c), s => s.ControlId == "A.10.3");

        var result = memory.Apply(["Suppliers"], SupplierLike, c, Base(c), Catalog);
        var raised = Assert.Single(result, s => s.ControlId == "A.10.3");
        Assert.True(raised.Score > 0.4, $"score {raised.Score}");
        Assert.Contains("accepted for \"suppliers.md\", p. 2", raised.Rationale, StringComparison.Ordinal);
        Assert.Contains(ReviewMemory.RationaleMark, raised.Rationale, StringComparison.Ordinal);
    }

    [Fact]
    public void An_entry_rejected_on_a_similar_passage_is_lowered_and_a_dissimilar_passage_is_left_alone()
    {
        var memory = ReviewMemory.Build([D(Supplier, "A.10.3", accepted: false)]);
        var c = Candidates(("A.10.3", 0.45));
        Assert.Empty(memory.Apply(["Suppliers"], SupplierLike, c, Base(c), Catalog));

        var other = Candidates(("A.10.3", 0.6));
        Assert.Equal(Base(other), memory.Apply(["Facilities"], Unrelated, other, Base(other), Catalog));
    }

    [Fact]
    public void The_per_entry_term_when_switched_on_moves_an_entry_everywhere_by_its_decisions()
    {
        // One rejection: w · ln(1/2) in log-odds, even on a passage with nothing in common.
        var memory = ReviewMemory.Build([D(Supplier, "A.10.3", accepted: false)], new ReviewMemoryOptions { EntryWeight = 0.5 });
        var other = Candidates(("A.10.3", 0.6));
        var kept = Assert.Single(memory.Apply(["Facilities"], Unrelated, other, Base(other), Catalog));
        var expected = 1 / (1 + Math.Exp(-(Math.Log(0.6 / 0.4) + (0.5 * Math.Log(0.5)))));
        Assert.Equal(Math.Round(expected, 4), kept.Score);

        // Entries added by hand do not count unless asked to.
        var manual = ReviewMemory.Build([D(Supplier, "A.10.3", accepted: true) with { Manual = true }], new ReviewMemoryOptions { EntryWeight = 0.5 });
        Assert.Equal(Base(other), manual.Apply(["Facilities"], Unrelated, other, Base(other), Catalog));
    }

    [Fact]
    public void An_entry_the_model_did_not_keep_is_added_for_a_passage_with_the_same_text_and_not_for_a_merely_similar_one()
    {
        var memory = ReviewMemory.Build([D(Supplier, "A.10.3", accepted: true) with { Manual = true }]);
        var c = Candidates(("A.10.2", 0.5));

        // Same words, other case and punctuation (a re-extracted or re-versioned document).
        var same = memory.Apply(["Suppliers"], Supplier.ToUpperInvariant().Replace(",", " ;", StringComparison.Ordinal), c, Base(c), Catalog);
        Assert.Contains(same, s => s.ControlId == "A.10.3" && s.Score >= 0.95);

        // Similar text moves the log-odds by at most MaxNeighbourMove: an entry the model all but excluded stays out.
        Assert.DoesNotContain(memory.Apply(["Suppliers"], SupplierLike, c, Base(c), Catalog), s => s.ControlId == "A.10.3");
    }

    [Fact]
    public void Re_applying_to_its_own_output_does_not_stack_review_reasons()
    {
        var memory = ReviewMemory.Build([D(Supplier, "A.10.3", accepted: true)]);
        var c = Candidates(("A.10.3", 0.3));
        var once = memory.Apply(["Suppliers"], SupplierLike, c, Base(c), Catalog);
        var twice = memory.Apply(["Suppliers"], SupplierLike, c, once, Catalog);
        Assert.Equal(once.Select(s => (s.ControlId, s.Score, s.Rationale)), twice.Select(s => (s.ControlId, s.Score, s.Rationale)));
        Assert.Equal(1, CountOf(twice[0].Rationale, ReviewMemory.RationaleMark));
    }

    [Fact]
    public void Candidates_survive_storage()
    {
        var c = Candidates(("A.10.3", 0.1234), ("6.1.2", 0.05)) with { Finding = 0.7, FindingThreshold = 0.48 };
        var back = PassageCandidates.Parse(c.Serialize());
        Assert.NotNull(back);
        Assert.Equal(c.Threshold, back.Threshold);
        Assert.Equal(c.MaxSuggestions, back.MaxSuggestions);
        Assert.Equal(c.Model, back.Model);
        Assert.True(back.IsFinding);
        Assert.Equal(c.Entries, back.Entries);
        Assert.Null(PassageCandidates.Parse("not json"));
        Assert.Null(PassageCandidates.Parse(null));
    }

    [Fact]
    public void Vectors_and_document_types_survive_storage_at_half_precision()
    {
        var random = new Random(7);
        float[] Vector() => [.. Enumerable.Range(0, 384).Select(_ => (float)((random.NextDouble() * 2) - 1) / 20f)];
        var vectors = new PassageVectors(Vector(), Vector());
        var c = Candidates(("A.10.3", 0.1234)) with { Vectors = vectors, DocTypes = [0.1, 0.2, 0.7] };
        var text = c.Serialize();
        var back = PassageCandidates.Parse(text);
        Assert.NotNull(back?.Vectors);
        Assert.Equal(vectors.Stored().MiniLM, back.Vectors.MiniLM);
        Assert.Equal(vectors.Stored().Arctic, back.Vectors.Arctic);
        Assert.All(vectors.MiniLM.Zip(back.Vectors.MiniLM), p => Assert.True(Math.Abs(p.First - p.Second) < 1e-4, $"{p.First} vs {p.Second}"));
        Assert.Equal([0.1, 0.2, 0.7], back.DocTypes);
        Assert.InRange(text.Length, 2 * 1024, 3 * 1024); // two 384-dimensional vectors: about 1 KB each
        Assert.Null(PassageCandidates.Parse(Candidates(("A.10.3", 0.1)).Serialize())!.Vectors);
        Assert.Null(PassageCandidates.Parse(text.Replace("\"vm\":\"", "\"vm\":\"%", StringComparison.Ordinal))!.Vectors); // unreadable vectors: none, not an error
    }

    private static int CountOf(string text, string part) => (text.Length - text.Replace(part, string.Empty, StringComparison.Ordinal).Length) / part.Length;
}
