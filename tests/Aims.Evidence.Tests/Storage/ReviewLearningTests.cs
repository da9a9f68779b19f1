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
