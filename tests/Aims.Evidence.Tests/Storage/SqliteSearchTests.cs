using Aims.Evidence.Core.Storage;
using Aims.Evidence.Sqlite;

namespace Aims.Evidence.Tests.Storage;

/// <summary>FTS5 search of the SQLite store: all terms first, any term to fill up, phrases, filters, hostile input.</summary>
public sealed class SqliteSearchTests
{
    private static async Task<SqliteEvidenceStore> FixtureAsync(TempDir dir, int candidates = 2000)
    {
        var ct = TestContext.Current.CancellationToken;
        var store = new SqliteEvidenceStore(dir.Db) { SearchCandidates = candidates };
        await WriteAsync(store, "policy.md", "policy", DocumentStatus.Processed, ct,
            ("Human oversight of AI systems is assigned to the model owner, who can stop the system at any time.", "A.9.2"),
            ("The policy is approved by the board of the company and reviewed every year.", "5.2"));
        await WriteAsync(store, "impact.md", "impact-assessment", DocumentStatus.Processed, ct,
            ("The impact assessment considers the effects of the credit model on individuals and groups.", "A.5.2"),
            ("The assessment of the impact on operating cost was postponed to next quarter.", null));
        await WriteAsync(store, "data.md", "data-card", DocumentStatus.Processed, ct,
            ("Data quality checks cover completeness and accuracy of the training data.", "A.7.4"),
            ("Vendor oversight is done yearly by procurement.", null));
        await WriteAsync(store, "risk.md", "risk-assessment", DocumentStatus.Processed, ct,
            ("Risk treatment options are selected after the risk assessment; residual risk is accepted by the owner.", "6.1.3"));
        await WriteAsync(store, "broken.md", "policy", DocumentStatus.Failed, ct, ("Penetration testing of every AI system happens quarterly.", null));
        await WriteAsync(store, "old.md", "procedure", DocumentStatus.Processed, ct, ("Penetration testing of the chatbot happens monthly.", null));
        await WriteAsync(store, "old.md", "procedure", DocumentStatus.Processed, ct, ("Red teaming of the chatbot happens monthly.", null)); // supersedes v1
        return store;
    }

    private static async Task WriteAsync(SqliteEvidenceStore store, string name, string docType, DocumentStatus status, CancellationToken ct, params (string Text, string? Control)[] passages)
    {
        var id = Guid.NewGuid().ToString("N");
        var rows = passages.Select((p, i) => new PassageWithMappings(
            new PassageRecord { Id = $"{id}-{i}", DocumentId = id, Ordinal = i, Page = 1, Headings = ["Section " + i], Text = p.Text },
            p.Control is null ? [] : [new MappingRecord { Id = $"{id}-{i}-m", PassageId = $"{id}-{i}", ControlId = p.Control, Score = 0.8, Method = "test" }])).ToArray();
        await store.WriteDocumentAsync(new DocumentWrite(new DocumentRecord { Id = id, Name = name, Sha256 = id, DocType = docType, Status = status, IngestedAt = DateTimeOffset.UtcNow }, rows), ct);
    }

    private static async Task<IReadOnlyList<SearchHit>> Search(SqliteEvidenceStore store, string text, int limit = 20, string? docType = null, string? control = null) =>
        await store.SearchAsync(new SearchQuery(text, control, docType, limit), TestContext.Current.CancellationToken);

    [Theory]
    [InlineData("human oversight of AI systems", "policy.md", "Human oversight of AI systems")]
    [InlineData("impact assessment", "impact.md", null)]
    [InlineData("data quality", "data.md", "Data quality checks")]
    [InlineData("risk", "risk.md", "Risk treatment options")]
    [InlineData("Risk assessments", "risk.md", "Risk treatment options")]
    public async Task The_passages_with_every_term_rank_first(string query, string expectedDocument, string? expectedStart)
    {
        using var dir = new TempDir();
        using var store = await FixtureAsync(dir);
        var hits = await Search(store, query);
        Assert.NotEmpty(hits);
        Assert.Equal(expectedDocument, hits[0].Document.Name);
        if (expectedStart is not null)
        {
            Assert.StartsWith(expectedStart, hits[0].Passage.Text, StringComparison.Ordinal);
            Assert.NotEmpty(hits[0].Mappings);
        }
    }

    [Fact]
    public async Task Stop_words_do_not_match_and_passages_with_some_terms_fill_up_after_those_with_all()
    {
        using var dir = new TempDir();
        using var store = await FixtureAsync(dir);
        var hits = await Search(store, "human oversight of AI systems");

        // "of" is in nearly every fixture passage; without it only passages with a content word match.
        Assert.Equal(2, hits.Count);
        Assert.StartsWith("Human oversight", hits[0].Passage.Text, StringComparison.Ordinal);
        Assert.StartsWith("Vendor oversight", hits[1].Passage.Text, StringComparison.Ordinal);

        // Limit 1: the passage with every term, no filler.
        Assert.Single(await Search(store, "human oversight of AI systems", limit: 1));
    }

    [Fact]
    public async Task Quoted_text_is_a_phrase()
    {
        using var dir = new TempDir();
        using var store = await FixtureAsync(dir);
        // Both words in either order first (the two impact.md passages), then passages with one of them.
        Assert.Equal(["impact.md", "impact.md", "risk.md"], (await Search(store, "impact assessment")).Select(h => h.Document.Name));
        var phrase = await Search(store, "\"impact assessment\"");
        Assert.Single(phrase);
        Assert.StartsWith("The impact assessment", phrase[0].Passage.Text, StringComparison.Ordinal);
        Assert.Single(await Search(store, "\"oversight of AI\"")); // stop words count inside a phrase
    }

    [Fact]
    public async Task Only_current_processed_documents_match_and_filters_apply()
    {
        using var dir = new TempDir();
        using var store = await FixtureAsync(dir);
        Assert.Empty(await Search(store, "penetration")); // failed document and superseded version
        Assert.Single(await Search(store, "red teaming"));
        Assert.Equal(["impact-assessment", "impact-assessment"], (await Search(store, "assessment", docType: "impact-assessment")).Select(h => h.Document.DocType));
        var byControl = await Search(store, "assessment", control: "6.1.3");
        Assert.Single(byControl);
        Assert.StartsWith("Risk treatment", byControl[0].Passage.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_query_of_stop_words_only_still_searches_them()
    {
        using var dir = new TempDir();
        using var store = await FixtureAsync(dir);
        Assert.NotEmpty(await Search(store, "of the"));
    }

    [Theory]
    [InlineData("\"")]
    [InlineData("\"\"\"\"")]
    [InlineData("risk\"")]
    [InlineData("AND OR NOT")]
    [InlineData("NEAR(risk owner, 2)")]
    [InlineData("text:risk")]
    [InlineData("headings : risk")]
    [InlineData("risk*")]
    [InlineData("^risk")]
    [InlineData("-risk +owner")]
    [InlineData("(((risk")]
    [InlineData("'; DROP TABLE passages; --")]
    [InlineData("{risk owner}")]
    [InlineData("risk \u0000 owner")]
    [InlineData("\U0001F600 risk")]
    [InlineData("   ")]
    [InlineData("")]
    public async Task Hostile_query_syntax_never_throws(string query)
    {
        using var dir = new TempDir();
        using var store = await FixtureAsync(dir);
        var hits = await Search(store, query);
        Assert.All(hits, h => Assert.Equal(DocumentStatus.Processed, h.Document.Status));
        Assert.NotEmpty(await Search(store, "risk")); // the store is intact
    }

    [Fact]
    public async Task A_very_long_query_is_cut_to_32_terms_and_does_not_throw()
    {
        using var dir = new TempDir();
        using var store = await FixtureAsync(dir);
        var words = string.Join(' ', Enumerable.Range(0, 500).Select(i => "word" + i)) + " risk";
        Assert.Empty(await Search(store, words)); // "risk" is the 501st term
        Assert.NotEmpty(await Search(store, "risk " + words));
    }

    [Fact]
    public async Task Ranking_is_over_the_newest_candidates_when_a_term_matches_more_than_the_bound()
    {
        var ct = TestContext.Current.CancellationToken;
        using var dir = new TempDir();
        using var store = new SqliteEvidenceStore(dir.Db) { SearchCandidates = 5 };
        await WriteAsync(store, "first.md", "policy", DocumentStatus.Processed, ct, ("Audit audit audit.", null)); // the best bm25 match, stored first
        for (var i = 0; i < 10; i++)
        {
            await WriteAsync(store, $"later-{i}.md", "policy", DocumentStatus.Processed, ct, ($"The audit plan number {i} lists the internal audit dates and the auditors of the year.", null));
        }

        var bounded = await Search(store, "audit", limit: 3);
        Assert.Equal(3, bounded.Count);
        Assert.DoesNotContain(bounded, h => h.Document.Name == "first.md");

        using var unbounded = new SqliteEvidenceStore(dir.Db) { SearchCandidates = 100 };
        var all = await unbounded.SearchAsync(new SearchQuery("audit"), ct);
        Assert.Equal(11, all.Count);
        Assert.Equal("first.md", all[0].Document.Name);
    }
}
