using Aims.Evidence.Azure.Tables;
using Aims.Evidence.Azure.Tests.Infrastructure;
using Aims.Evidence.Core.Mapping;
using Aims.Evidence.Core.Storage;

namespace Aims.Evidence.Azure.Tests;

[Trait(Tiers.Name, Tiers.Slow)]
public sealed class TableEvidenceStoreTests(AzuriteFixture azurite)
{
    private static DocumentWrite Write(string id, string name, string sha, int passages, params string[] controls)
    {
        var document = new DocumentRecord
        {
            Id = id,
            Name = name,
            Sha256 = sha,
            Size = 1234,
            MediaType = "text/markdown",
            DocType = "policy",
            DocTypeConfidence = 0.9,
            Status = DocumentStatus.Processed,
            PageCount = 2,
            IngestedAt = new DateTimeOffset(2026, 11, 1, 8, 0, 0, TimeSpan.Zero),
            EffectiveDate = new DateOnly(2026, 10, 1),
            RunId = "run-1",
        };
        var list = new List<PassageWithMappings>();
        for (var i = 0; i < passages; i++)
        {
            var passageId = $"{id}-p{i}";
            var passage = new PassageRecord
            {
                Id = passageId,
                DocumentId = id,
                Ordinal = i,
                Page = 1 + (i % 2),
                Headings = ["AI policy", $"Section {i}"],
                Text = $"Passage {i} of {name}: the organization shall define an AI policy.",
                Start = i * 100,
                Length = 60,
            };
            var mappings = controls.Select((c, j) => new MappingRecord
            {
                Id = $"{passageId}-m{j}",
                PassageId = passageId,
                ControlId = c,
                Score = 0.8 - (i * 0.01),
                Method = "lexical",
                Rationale = "mentions AI policy",
                Review = i == 0 && j == 1 ? ReviewState.Rejected : ReviewState.Unreviewed,
            }).ToList();
            list.Add(new PassageWithMappings(passage, mappings));
        }

        return new DocumentWrite(document, list);
    }

    private async Task<TableEvidenceStore> NewStoreAsync()
    {
        azurite.Require();
        var store = new TableEvidenceStore(azurite.Tables(), AzuriteFixture.UniquePrefix());
        await store.InitializeAsync(TestContext.Current.CancellationToken);
        await store.InitializeAsync(TestContext.Current.CancellationToken);
        return store;
    }

    [Fact]
    public async Task Writes_a_document_with_passages_and_mappings_and_reads_it_back()
    {
        var ct = TestContext.Current.CancellationToken;
        var store = await NewStoreAsync();

        var stored = await store.WriteDocumentAsync(Write("doc-a1", "policies/ai policy.md", "sha-a1", 3, "5.2", "A.2.2"), ct);

        Assert.Equal(1, stored.Version);
        Assert.True(stored.IsCurrent);
        Assert.Equal(3, stored.PassageCount);

        var current = await store.GetCurrentByNameAsync("policies/ai policy.md", ct);
        Assert.NotNull(current);
        Assert.Equal("doc-a1", current.Id);
        Assert.Equal(new DateOnly(2026, 10, 1), current.EffectiveDate);
        Assert.Equal(DocumentStatus.Processed, current.Status);

        Assert.Equal("doc-a1", (await store.FindCurrentBySha256Async("sha-a1", ct))?.Id);
        Assert.Null(await store.FindCurrentBySha256Async("nope", ct));

        var passages = await store.GetPassagesAsync("doc-a1", ct);
        Assert.Equal([0, 1, 2], passages.Select(p => p.Passage.Ordinal));
        Assert.Equal(["AI policy", "Section 1"], passages[1].Passage.Headings);
        Assert.Equal(2, passages[0].Mappings.Count);
        Assert.Equal(ReviewState.Rejected, passages[0].Mappings[1].Review);

        var evidence = await store.GetEvidenceAsync("5.2", ct);
        Assert.Equal(3, evidence.Count);
        Assert.All(evidence, e => Assert.Equal("5.2", e.Mapping.ControlId));

        // The rejected mapping of passage 0 does not count as evidence.
        var annex = await store.GetEvidenceAsync("A.2.2", ct);
        Assert.Equal(["doc-a1-p1", "doc-a1-p2"], annex.Select(e => e.Passage.Id).Order());

        Assert.Equal(5, (await store.GetEvidenceAsync(cancellationToken: ct)).Count);
    }

    [Fact]
    public async Task Second_version_supersedes_the_first()
    {
        var ct = TestContext.Current.CancellationToken;
        var store = await NewStoreAsync();

        await store.WriteDocumentAsync(Write("v1", "risk.md", "sha-1", 2, "6.1.2"), ct);
        var second = await store.WriteDocumentAsync(Write("v2", "risk.md", "sha-2", 1, "6.1.2"), ct);

        Assert.Equal(2, second.Version);
        Assert.Equal("v2", (await store.GetCurrentByNameAsync("risk.md", ct))?.Id);

        var versions = await store.GetVersionsAsync("risk.md", ct);
        Assert.Equal(["v2", "v1"], versions.Select(v => v.Id));
        Assert.False(versions[1].IsCurrent);
        Assert.True(versions[0].IsCurrent);

        Assert.Single(await store.ListDocumentsAsync(cancellationToken: ct));
        Assert.Equal(2, (await store.ListDocumentsAsync(includeSuperseded: true, ct)).Count);

        // Evidence only from the current version; the old hash is no longer current.
        var evidence = await store.GetEvidenceAsync("6.1.2", ct);
        Assert.Equal(["v2"], evidence.Select(e => e.Document.Id).Distinct());
        Assert.Null(await store.FindCurrentBySha256Async("sha-1", ct));

        var third = await store.WriteDocumentAsync(Write("v3", "risk.md", "sha-3", 1, "6.1.2"), ct);
        Assert.Equal(3, third.Version);
        Assert.Equal(["v3", "v2", "v1"], (await store.GetVersionsAsync("risk.md", ct)).Select(v => v.Id));
    }

    [Fact]
    public async Task Concurrent_versions_of_one_name_get_distinct_numbers_and_one_current()
    {
        var ct = TestContext.Current.CancellationToken;
        var store = await NewStoreAsync();
        await store.WriteDocumentAsync(Write("c1", "shared.md", "sha-c1", 1, "7.5"), ct);

        var writes = await Task.WhenAll(
            Enumerable.Range(2, 4).Select(i => Task.Run(() => store.WriteDocumentAsync(Write($"c{i}", "shared.md", $"sha-c{i}", 1, "7.5"), ct), ct)));

        Assert.Equal([2, 3, 4, 5], writes.Select(w => w.Version).Order());
        var versions = await store.GetVersionsAsync("shared.md", ct);
        Assert.Equal(5, versions.Count);
        var current = Assert.Single(versions, v => v.IsCurrent);
        Assert.Equal(5, current.Version);
        Assert.Equal(current.Id, (await store.GetCurrentByNameAsync("shared.md", ct))?.Id);
    }

    [Fact]
    public async Task Reads_are_idempotent_and_rewriting_the_same_version_keeps_its_number()
    {
        var ct = TestContext.Current.CancellationToken;
        var store = await NewStoreAsync();
        var write = Write("same", "procedure.md", "sha-s", 2, "8.2");

        await store.WriteDocumentAsync(write, ct);
        var again = await store.WriteDocumentAsync(write, ct);
        Assert.Equal(1, again.Version);

        var first = await store.GetEvidenceAsync("8.2", ct);
        var second = await store.GetEvidenceAsync("8.2", ct);
        Assert.Equal(first.Select(e => e.Mapping.Id), second.Select(e => e.Mapping.Id));
        Assert.Equal(2, first.Count);
        Assert.Equal(await store.GetDocumentAsync("same", ct), await store.GetDocumentAsync("same", ct));
    }

    [Fact]
    public async Task Large_batches_and_long_text_are_split_safely()
    {
        var ct = TestContext.Current.CancellationToken;
        var store = await NewStoreAsync();
        var write = Write("big", "inventory.xlsx", "sha-big", 230, "A.4.2");
        var longText = string.Concat(Enumerable.Repeat("Long evidence text with an emoji \U0001F600. ", 2500));
        var passages = write.Passages.ToList();
        passages[0] = passages[0] with { Passage = passages[0].Passage with { Text = longText } };

        await store.WriteDocumentAsync(write with { Passages = passages }, ct);

        var read = await store.GetPassagesAsync("big", ct);
        Assert.Equal(230, read.Count);
        Assert.Equal(longText, read[0].Passage.Text);
        Assert.Equal(230, (await store.GetEvidenceAsync("A.4.2", ct)).Count);
    }

    [Fact]
    public async Task Runs_list_newest_first()
    {
        var ct = TestContext.Current.CancellationToken;
        var store = await NewStoreAsync();
        var t0 = new DateTimeOffset(2026, 11, 1, 0, 0, 0, TimeSpan.Zero);
        await store.SaveRunAsync(new RunRecord { Id = "r1", StartedAt = t0, Processed = 1 }, ct);
        await store.SaveRunAsync(new RunRecord { Id = "r2", StartedAt = t0.AddHours(1), Failed = 2 }, ct);
        await store.SaveRunAsync(new RunRecord { Id = "r1", StartedAt = t0, FinishedAt = t0.AddMinutes(5), Processed = 3 }, ct);

        var runs = await store.ListRunsAsync(10, ct);
        Assert.Equal(["r2", "r1"], runs.Select(r => r.Id));
        Assert.Equal(3, runs[1].Processed);
        Assert.Single(await store.ListRunsAsync(1, ct));
    }

    [Fact]
    public void Keys_are_safe_for_table_storage()
    {
        Assert.Equal("doc-1", TableKeys.Key("doc-1"));
        var encoded = TableKeys.Key("a/b#c?d\\e");
        Assert.DoesNotContain('/', encoded);
        Assert.DoesNotContain('#', encoded);
        Assert.DoesNotContain('?', encoded);
        Assert.DoesNotContain('\\', encoded);
        Assert.NotEqual(TableKeys.Key("a/b"), TableKeys.Key("a_b"));
        Assert.True(TableKeys.Key(new string('x', 5000)).Length < 100);
    }

    [Fact]
    public async Task Audit_ids_stay_unique_and_increasing_under_concurrent_appends_and_page_by_id()
    {
        var store = await NewStoreAsync();
        var ct = TestContext.Current.CancellationToken;
        var ids = await Task.WhenAll(Enumerable.Range(0, 12).Select(i => store.AppendAuditAsync("tester", "test.append", $"t{i}", null, new { i }, ct)));
        Assert.Equal(Enumerable.Range(1, 12).Select(i => (long)i), ids.Order());

        var first = await store.ListAuditAsync(0, 5, ct);
        Assert.Equal([1L, 2L, 3L, 4L, 5L], first.Select(e => e.Id));
        var rest = await store.ListAuditAsync(5, 100, ct);
        Assert.Equal(Enumerable.Range(6, 7).Select(i => (long)i), rest.Select(e => e.Id));
        Assert.All(first.Concat(rest), e => Assert.Equal("tester", e.Actor));
    }

    [Fact]
    public async Task Effective_date_and_manual_mapping_change_unknown_ids_nowhere()
    {
        var store = await NewStoreAsync();
        var ct = TestContext.Current.CancellationToken;
        await store.WriteDocumentAsync(Write("d1", "policy.md", "sha-1", 2, "5.2"), ct);

        Assert.Null(await store.SetEffectiveDateAsync("d2", new DateOnly(2026, 1, 1), "tester", ct));
        Assert.Null(await store.SetEffectiveDateAsync("~name~policy.md", new DateOnly(2026, 1, 1), "tester", ct));
        Assert.Null(await store.AddManualMappingAsync("d1-p9", "6.1.2", "why", "tester", MappingPolarity.Supports, ct));
        Assert.Null(await store.AddManualMappingAsync("nodash", "6.1.2", "why", "tester", MappingPolarity.Supports, ct));
        Assert.Empty(await store.ListAuditAsync(0, 100, ct));

        var dated = await store.SetEffectiveDateAsync("d1", new DateOnly(2026, 2, 3), "tester", ct);
        Assert.Equal(new DateOnly(2026, 2, 3), dated?.EffectiveDate);
        Assert.Equal(new DateOnly(2026, 2, 3), (await store.GetDocumentAsync("d1", ct))?.EffectiveDate);
        Assert.Equal("policy.md", (await store.GetDocumentAsync("d1", ct))?.Name);
        var manual = await store.AddManualMappingAsync("d1-p1", "6.1.2", "why", "tester", MappingPolarity.Supports, ct);
        Assert.NotNull(manual);
        Assert.Equal("d1-p1", (await store.GetPassageAsync("d1-p1", ct))?.Id);
        Assert.Equal(manual, await store.GetMappingAsync(manual.Id, ct));
        Assert.Equal(manual.Id, (await store.AddManualMappingAsync("d1-p1", "6.1.2", "again", "tester", MappingPolarity.Supports, ct))?.Id); // no second row
        var finding = await store.AddManualMappingAsync("d1-p1", "6.1.2", "not done", "tester", MappingPolarity.Finding, ct);
        Assert.NotEqual(manual.Id, finding?.Id);
        Assert.Equal(MappingPolarity.Finding, (await store.GetMappingAsync(finding!.Id, ct))?.Polarity);
        Assert.Equal(["document.effective-date", "mapping.add", "mapping.add"], (await store.ListAuditAsync(0, 100, ct)).Select(e => e.Action));
    }
}
