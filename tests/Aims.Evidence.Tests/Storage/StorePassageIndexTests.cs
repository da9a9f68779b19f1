using Aims.Evidence.Core.Storage;

namespace Aims.Evidence.Tests.Storage;

public sealed class StorePassageIndexTests
{
    private static readonly DocumentRecord Policy = new() { Id = "d1", Name = "policy.md", Sha256 = "a", DocType = "policy", Status = DocumentStatus.Processed };
    private static readonly DocumentRecord Card = new() { Id = "d2", Name = "card.md", Sha256 = "b", DocType = "model-card", Status = DocumentStatus.Processed };
    private static readonly DocumentRecord Failed = new() { Id = "d3", Name = "broken.md", Sha256 = "c", DocType = "policy", Status = DocumentStatus.Failed };

    private sealed class FakeStore : IEvidenceStore
    {
        public Dictionary<string, PassageWithMappings[]> Passages { get; } = new()
        {
            ["d1"] =
            [
                Passage("d1", "p1", "The risk assessment of AI systems is repeated every year.", ("A.5.2", ReviewState.Unreviewed)),
                Passage("d1", "p2", "Roles and responsibilities are assigned.", ("A.3.2", ReviewState.Rejected)),
            ],
            ["d2"] = [Passage("d2", "p3", "The model risk was assessed on a held-out test set; risk is low.", ("A.6.2.4", ReviewState.Accepted))],
            ["d3"] = [Passage("d3", "p4", "risk risk risk")],
        };

        private static PassageWithMappings Passage(string doc, string id, string text, params (string Control, ReviewState Review)[] mappings) =>
            new(new PassageRecord { Id = id, DocumentId = doc, Text = text },
                mappings.Select((m, i) => new MappingRecord { Id = id + "-m" + i, PassageId = id, ControlId = m.Control, Method = "test", Review = m.Review, Score = 0.5 }).ToArray());

        public Task<IReadOnlyList<DocumentRecord>> ListDocumentsAsync(bool includeSuperseded = false, CancellationToken cancellationToken = default) =>
            Task.FromResult<IReadOnlyList<DocumentRecord>>([Policy, Card, Failed]);

        public Task<IReadOnlyList<PassageWithMappings>> GetPassagesAsync(string documentId, CancellationToken cancellationToken = default) =>
            Task.FromResult<IReadOnlyList<PassageWithMappings>>(Passages[documentId]);

        public Task InitializeAsync(CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public Task<DocumentRecord?> GetCurrentByNameAsync(string name, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public Task<DocumentRecord?> FindCurrentBySha256Async(string sha256, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public Task<DocumentRecord?> GetDocumentAsync(string id, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public Task<DocumentRecord> WriteDocumentAsync(DocumentWrite write, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public Task<IReadOnlyList<DocumentRecord>> GetVersionsAsync(string name, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public Task<IReadOnlyList<EvidenceLink>> GetEvidenceAsync(string? controlId = null, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public Task SaveRunAsync(RunRecord run, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public Task<IReadOnlyList<RunRecord>> ListRunsAsync(int limit = 20, CancellationToken cancellationToken = default) => throw new NotSupportedException();
    }

    private static Task<IReadOnlyList<SearchHit>> Search(SearchQuery query) =>
        new StorePassageIndex(new FakeStore()).SearchAsync(query, TestContext.Current.CancellationToken);

    [Fact]
    public async Task Ranks_matching_passages_of_processed_documents_only()
    {
        var hits = await Search(new SearchQuery("risk"));
        Assert.Equal(["p3", "p1"], hits.Select(h => h.Passage.Id));
        Assert.All(hits, h => Assert.True(h.Score > 0));
        Assert.Equal("card.md", hits[0].Document.Name);
    }

    [Fact]
    public async Task Filters_by_document_type_and_control_and_drops_rejected_mappings()
    {
        Assert.Equal(["p1"], (await Search(new SearchQuery("risk", DocType: "policy"))).Select(h => h.Passage.Id));
        Assert.Equal(["p3"], (await Search(new SearchQuery("risk", ControlId: "A.6.2.4"))).Select(h => h.Passage.Id));
        Assert.Empty(await Search(new SearchQuery("roles", ControlId: "A.3.2")));
        Assert.Empty((await Search(new SearchQuery("roles"))).Single().Mappings);
    }

    [Fact]
    public async Task Empty_or_stop_word_queries_find_nothing_and_limit_is_applied()
    {
        Assert.Empty(await Search(new SearchQuery("the of")));
        Assert.Single(await Search(new SearchQuery("risk", Limit: 1)));
    }
}
