using Aims.Evidence.Azure.Tables;
using Aims.Evidence.Azure.Tests.Infrastructure;
using Aims.Evidence.Core.Mapping;
using Aims.Evidence.Core.Storage;

namespace Aims.Evidence.Azure.Tests;

/// <summary>What only Table Storage needs beyond <see cref="EvidenceStoreContract"/> (TableStoreContractTests): concurrency, batch and key limits, its id forms.</summary>
[Trait(Tiers.Name, Tiers.Slow)]
public sealed class TableEvidenceStoreTests(AzuriteFixture azurite)
{
    private async Task<TableEvidenceStore> NewStoreAsync()
    {
        azurite.Require();
        var store = new TableEvidenceStore(azurite.Tables(), AzuriteFixture.UniquePrefix());
        await store.InitializeAsync(TestContext.Current.CancellationToken);
        await store.InitializeAsync(TestContext.Current.CancellationToken);
        return store;
    }

    [Fact]
    public async Task Concurrent_versions_of_one_name_get_distinct_numbers_and_one_current()
    {
        var ct = TestContext.Current.CancellationToken;
        var store = await NewStoreAsync();
        await store.WriteDocumentAsync(EvidenceStoreContract.Write("c1", "shared.md", "sha-c1", 1, "7.5"), ct);

        var writes = await Task.WhenAll(
            Enumerable.Range(2, 4).Select(i => Task.Run(() => store.WriteDocumentAsync(EvidenceStoreContract.Write($"c{i}", "shared.md", $"sha-c{i}", 1, "7.5"), ct), ct)));

        Assert.Equal([2, 3, 4, 5], writes.Select(w => w.Version).Order());
        var versions = await store.GetVersionsAsync("shared.md", ct);
        Assert.Equal(5, versions.Count);
        var current = Assert.Single(versions, v => v.IsCurrent);
        Assert.Equal(5, current.Version);
        Assert.Equal(current.Id, (await store.GetCurrentByNameAsync("shared.md", ct))?.Id);
    }

    [Fact]
    public async Task Large_batches_and_long_text_are_split_safely()
    {
        var ct = TestContext.Current.CancellationToken;
        var store = await NewStoreAsync();
        var write = EvidenceStoreContract.Write("big", "inventory.xlsx", "sha-big", 230, "A.4.2");
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
    public async Task Ids_in_the_stores_other_key_forms_change_nothing()
    {
        var store = await NewStoreAsync();
        var ct = TestContext.Current.CancellationToken;
        await store.WriteDocumentAsync(EvidenceStoreContract.Write("d1", "policy.md", "sha-1", 2, "5.2"), ct);

        // A name pointer's row key is not a document id, and a passage id has a dash before its ordinal.
        Assert.Null(await store.SetEffectiveDateAsync("~name~policy.md", new DateOnly(2026, 1, 1), "tester", ct));
        Assert.Null(await store.AddManualMappingAsync("nodash", "6.1.2", "why", "tester", MappingPolarity.Supports, ct));
        Assert.Empty(await store.ListAuditAsync(0, 100, ct));
        Assert.Equal(new DateOnly(2026, 10, 1), (await store.GetDocumentAsync("d1", ct))?.EffectiveDate);
    }
}
