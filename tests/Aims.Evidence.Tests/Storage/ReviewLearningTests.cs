using Aims.Evidence.Core.Mapping;
using Aims.Evidence.Core.Mapping.Feedback;
using Aims.Evidence.Core.Storage;
using Aims.Evidence.Local;

namespace Aims.Evidence.Tests.Storage;

/// <summary>
/// Reviews teach the mapper, end to end over a real SQLite file and the embedded trained mapper: decisions move the
/// stored candidates of similar passages (re-scoring) and of passages ingested later (the pipeline's reviews stage).
/// </summary>
[Trait(Tiers.Name, Tiers.Integration)]
public sealed class ReviewLearningTests
{
    private const string Supplier = "Suppliers of AI components are assessed before contract signature and every year thereafter against our responsible AI requirements, and the assessment covers data handling, model documentation and incident notification.";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static string Policy(string supplierText) => $"""
        # AI policy

        ## Suppliers

        {supplierText}

        ## Competence

        Every engineer who trains or deploys a model completes the responsible AI course within three months of joining, and HR keeps the records.
        """;

    private static async Task<PassageWithMappings> SupplierPassageAsync(LocalAims aims, string name)
    {
        var doc = Assert.Single(await aims.Store.ListDocumentsAsync(false, Ct), d => d.Name == name);
        return Assert.Single(await aims.Store.GetPassagesAsync(doc.Id, Ct), p => p.Passage.Text.Contains("Suppliers of AI", StringComparison.OrdinalIgnoreCase) || p.Passage.Text.Contains("supplier of AI", StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public async Task A_rejection_lowers_similar_passages_and_is_never_suggested_again_for_the_same_text()
    {
        using var tmp = new TempDir();
        using var aims = await LocalAims.OpenAsync(tmp.Db, cancellationToken: Ct);
        var pipeline = aims.CreatePipeline();
        await pipeline.IngestAsync("policy.md", System.Text.Encoding.UTF8.GetBytes(Policy(Supplier)), Ct);
        var similarText = Supplier.Replace("every year thereafter", "each year after that", StringComparison.Ordinal);
        await pipeline.IngestAsync("procurement.md", System.Text.Encoding.UTF8.GetBytes(Policy(similarText)), Ct);

        var reviewed = await SupplierPassageAsync(aims, "policy.md");
        Assert.NotNull(reviewed.Passage.Candidates); // the trained mapper keeps its candidates with the passage
        Assert.InRange(reviewed.Passage.Candidates.Entries.Count, 1, PassageCandidates.Kept);
        var top = reviewed.Mappings.OrderByDescending(m => m.Score).First();
        var similarBefore = Assert.Single((await SupplierPassageAsync(aims, "procurement.md")).Mappings, m => m.ControlId == top.ControlId);

        await aims.Store.ReviewMappingAsync(top.Id, ReviewState.Rejected, "reviewer", "not this entry", Ct);
        var result = await new ReviewLearner(aims.Store, aims.Store, aims.Catalog).RescoreAsync(Ct);
        Assert.Equal(1, result.Decisions);
        Assert.True(result.PassagesChanged >= 1);

        // The similar passage's suggestion of the rejected entry went down (or away), and says why.
        var similarAfter = (await SupplierPassageAsync(aims, "procurement.md")).Mappings.SingleOrDefault(m => m.ControlId == top.ControlId);
        if (similarAfter is not null)
        {
            Assert.True(similarAfter.Score < similarBefore.Score, $"{similarAfter.Score} < {similarBefore.Score}");
            Assert.Contains("rejected for \"policy.md\"", similarAfter.Rationale, StringComparison.Ordinal);
        }

        // The reviewed mapping itself stays rejected; re-scoring again changes nothing.
        Assert.Equal(ReviewState.Rejected, (await aims.Store.GetMappingAsync(top.Id, Ct))!.Review);
        Assert.Equal(0, (await new ReviewLearner(aims.Store, aims.Store, aims.Catalog).RescoreAsync(Ct)).PassagesChanged);

        // A new document version (and another document) with the same paragraph never gets the rejected entry again.
        await pipeline.IngestAsync("policy.md", System.Text.Encoding.UTF8.GetBytes(Policy(Supplier) + "\n## Scope\n\nThe policy covers every AI system we build or buy.\n"), Ct);
        await pipeline.IngestAsync("copy.md", System.Text.Encoding.UTF8.GetBytes(Policy(Supplier) + "\nCopied for the procurement team.\n"), Ct);
        Assert.DoesNotContain((await SupplierPassageAsync(aims, "policy.md")).Mappings, m => m.ControlId == top.ControlId);
        Assert.DoesNotContain((await SupplierPassageAsync(aims, "copy.md")).Mappings, m => m.ControlId == top.ControlId);
    }

    /// <summary>Says what <see cref="Supplier"/> says in other words: too few shared words for the lexical memory (similarity under 0.40).</summary>
    private const string SupplierParaphrase = "Before we sign with a vendor that provides machine learning parts, and annually afterwards, that vendor is evaluated against the responsible AI rules we set, looking at how it treats data, documents its models and tells us about incidents.";

    [Fact]
    public async Task Reviewed_passages_join_the_trained_mappers_labelled_passages_and_move_paraphrases_in_other_documents()
    {
        using var tmp = new TempDir();
        using var aims = await LocalAims.OpenAsync(tmp.Db, cancellationToken: Ct);
        var rescorer = ReviewRescorers.Find(aims.Mapper);
        Assert.NotNull(rescorer); // the embedded default is the trained mapper, under the polarity qualifier
        var pipeline = aims.CreatePipeline();
        await pipeline.IngestAsync("policy.md", System.Text.Encoding.UTF8.GetBytes(Policy(Supplier)), Ct);
        await pipeline.IngestAsync("vendors.md", System.Text.Encoding.UTF8.GetBytes(Policy(SupplierParaphrase)), Ct);
        var reviewed = await SupplierPassageAsync(aims, "policy.md");
        var vendorsDoc = Assert.Single(await aims.Store.ListDocumentsAsync(false, Ct), d => d.Name == "vendors.md");
        var vendorRows = (await aims.Store.GetPassagesAsync(vendorsDoc.Id, Ct)).OrderBy(r => r.Passage.Ordinal).ToArray();
        var paraphrase = Array.FindIndex(vendorRows, r => r.Passage.Text.Contains("vendor", StringComparison.Ordinal));
        Assert.All(vendorRows, r => Assert.NotNull(r.Passage.Candidates?.Vectors)); // vectors are kept with the candidates
        Assert.DoesNotContain("similarity", string.Join(" ", vendorRows[paraphrase].Mappings.Select(m => m.Rationale)), StringComparison.Ordinal);

        // An entry the model gives the paraphrase a low probability, added by hand on the reviewed passage.
        const string Added = "A.8.5";
        double ProbabilityOf(PassageCandidates? c) => c?.Entries.FirstOrDefault(e => e.ControlId == Added)?.Probability ?? 0;
        var before = ProbabilityOf(vendorRows[paraphrase].Passage.Candidates);
        Assert.True(before < 0.2, $"{before}");
        await aims.Store.AddManualMappingAsync(reviewed.Passage.Id, Added, "the supplier clause also informs suppliers", "reviewer", MappingPolarity.Supports, Ct);
        var decisions = await aims.Store.ListReviewDecisionsAsync(Ct);
        var bank = rescorer.Learn(decisions);
        Assert.NotNull(bank);
        Assert.Equal(1, bank.Count);
        Assert.Contains("policy.md", bank.Source[0], StringComparison.Ordinal);

        var rescored = rescorer.Rescore([.. vendorRows.Select(r => r.Passage.ToPassage())], [.. vendorRows.Select(r => r.Passage.Candidates)], bank);
        var after = ProbabilityOf(rescored[paraphrase]);
        Assert.True(after > before + 0.05, $"{before} -> {after}");
        Assert.Contains("reviewed here: \"policy.md\"", rescored[paraphrase]!.Notes![Added], StringComparison.Ordinal);

        // Without any decision nothing is learned; with it, the background re-scoring is idempotent.
        Assert.Null(rescorer.Learn([]));
        await new ReviewLearner(aims.Store, aims.Store, aims.Catalog, rescorer).RescoreAsync(Ct);
        Assert.Equal(0, (await new ReviewLearner(aims.Store, aims.Store, aims.Catalog, rescorer).RescoreAsync(Ct)).PassagesChanged);
    }

    [Fact]
    public async Task A_passage_whose_every_suggestion_was_rejected_teaches_no_evidence()
    {
        using var tmp = new TempDir();
        using var aims = await LocalAims.OpenAsync(tmp.Db, cancellationToken: Ct);
        var rescorer = ReviewRescorers.Find(aims.Mapper)!;
        var pipeline = aims.CreatePipeline();
        await pipeline.IngestAsync("policy.md", System.Text.Encoding.UTF8.GetBytes(Policy(Supplier)), Ct);
        await pipeline.IngestAsync("vendors.md", System.Text.Encoding.UTF8.GetBytes(Policy(SupplierParaphrase)), Ct);
        var reviewed = await SupplierPassageAsync(aims, "policy.md");
        Assert.NotEmpty(reviewed.Mappings);
        foreach (var m in reviewed.Mappings)
        {
            await aims.Store.ReviewMappingAsync(m.Id, ReviewState.Rejected, "reviewer", "not evidence", Ct);
        }

        var bank = rescorer.Learn(await aims.Store.ListReviewDecisionsAsync(Ct));
        Assert.NotNull(bank);
        Assert.Equal([-1], bank.Entry);
        var vendorsDoc = Assert.Single(await aims.Store.ListDocumentsAsync(false, Ct), d => d.Name == "vendors.md");
        var rows = (await aims.Store.GetPassagesAsync(vendorsDoc.Id, Ct)).OrderBy(r => r.Passage.Ordinal).ToArray();
        var i = Array.FindIndex(rows, r => r.Passage.Text.Contains("vendor", StringComparison.Ordinal));
        var top = rows[i].Passage.Candidates!.Entries[0];
        var rescored = rescorer.Rescore([.. rows.Select(r => r.Passage.ToPassage())], [.. rows.Select(r => r.Passage.Candidates)], bank);
        var after = rescored[i]!.Entries.FirstOrDefault(e => e.ControlId == top.ControlId)?.Probability ?? 0;
        Assert.True(after < top.Probability, $"{top.ControlId}: {top.Probability} -> {after}");

        // The other passages of the document, unlike the reviewed one, keep their probabilities exactly.
        var competence = Array.FindIndex(rows, r => r.Passage.Text.Contains("engineer", StringComparison.Ordinal));
        Assert.Equal(rows[competence].Passage.Candidates!.Entries, rescored[competence]!.Entries);
    }

    [Fact]
    public async Task An_entry_added_by_hand_is_suggested_for_a_passage_with_the_same_text_later()
    {
        using var tmp = new TempDir();
        using var aims = await LocalAims.OpenAsync(tmp.Db, cancellationToken: Ct);
        var pipeline = aims.CreatePipeline();
        await pipeline.IngestAsync("policy.md", System.Text.Encoding.UTF8.GetBytes(Policy(Supplier)), Ct);
        var passage = await SupplierPassageAsync(aims, "policy.md");
        const string Added = "A.8.5"; // information for interested parties: not what the model suggests for this paragraph
        Assert.DoesNotContain(passage.Mappings, m => m.ControlId == Added);
        await aims.Store.AddManualMappingAsync(passage.Passage.Id, Added, "the supplier clause also informs suppliers", "reviewer", MappingPolarity.Supports, Ct);

        await pipeline.IngestAsync("copy.md", System.Text.Encoding.UTF8.GetBytes(Policy(Supplier) + "\nCopied for the procurement team.\n"), Ct);
        var copy = await SupplierPassageAsync(aims, "copy.md");
        var learned = Assert.Single(copy.Mappings, m => m.ControlId == Added);
        Assert.Equal(ReviewState.Unreviewed, learned.Review);
        Assert.Contains("accepted for a passage with the same text", learned.Rationale, StringComparison.Ordinal);
    }
}
