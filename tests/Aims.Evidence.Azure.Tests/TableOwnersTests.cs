using Aims.Evidence.Azure.Tables;
using Aims.Evidence.Azure.Tests.Infrastructure;
using Aims.Evidence.Core.Catalog;
using Aims.Evidence.Core.Services;
using Aims.Evidence.Core.Storage;

namespace Aims.Evidence.Azure.Tests;

/// <summary>Owners and digest days in Table Storage (Azurite): the same behaviour as the SQLite store.</summary>
[Trait(Tiers.Name, Tiers.Slow)]
public sealed class TableOwnersTests(AzuriteFixture azurite)
{
    private async Task<(TableEvidenceStore Store, string Prefix)> NewStoreAsync()
    {
        azurite.Require();
        var prefix = AzuriteFixture.UniquePrefix();
        var store = new TableEvidenceStore(azurite.Tables(), prefix);
        await store.InitializeAsync(TestContext.Current.CancellationToken);
        return (store, prefix);
    }

    [Fact]
    public async Task Owners_are_stored_replaced_cleared_audited_and_reach_the_gap_report()
    {
        var (store, _) = await NewStoreAsync();
        var ct = TestContext.Current.CancellationToken;
        await store.SetOwnerAsync("A.6.2.2", "alice@example.org", new DateOnly(2027, 3, 31), "reviewer-1", ct);
        await store.SetOwnerAsync("A.2.2", "bob", null, "reviewer-1", ct);
        await store.SetOwnerAsync("A.6.2.2", "carol", null, "reviewer-2", ct);

        var owners = await store.ListOwnersAsync(ct);
        Assert.Equal(["A.2.2", "A.6.2.2"], owners.Select(o => o.ControlId));
        Assert.Equal(("carol", (DateOnly?)null, "reviewer-2"), (owners[1].Owner, owners[1].DueDate, owners[1].Actor));

        var report = await new EvidenceService(store, IsoCatalog.Default).GetGapReportAsync(ct);
        Assert.Equal("carol", report.Entries.Single(e => e.Entry.Id == "A.6.2.2").Owner?.Owner);

        Assert.True(await store.ClearOwnerAsync("A.6.2.2", "reviewer-2", ct));
        Assert.False(await store.ClearOwnerAsync("A.6.2.2", "reviewer-2", ct));
        Assert.Equal(["A.2.2"], (await store.ListOwnersAsync(ct)).Select(o => o.ControlId));

        var audit = (await store.ListAuditAsync(0, 100, ct)).Where(a => a.Action == "control.owner").ToList();
        Assert.Equal(["A.6.2.2", "A.2.2", "A.6.2.2", "A.6.2.2"], audit.Select(a => a.Target));
        Assert.Contains("2027-03-31", audit[0].After, StringComparison.Ordinal);
        Assert.Contains("alice@example.org", audit[2].Before, StringComparison.Ordinal);
        Assert.Null(audit[3].After);
    }

    [Fact]
    public async Task A_digest_day_is_claimed_once_across_store_instances_and_the_last_earlier_day_is_found()
    {
        var (store, prefix) = await NewStoreAsync();
        var ct = TestContext.Current.CancellationToken;
        var day = new DateOnly(2026, 12, 3);
        Assert.True(await store.TryClaimDigestAsync(day.AddDays(-40), ["A.2.2"], ct));
        Assert.True(await store.TryClaimDigestAsync(day.AddDays(-2), ["6.1.2"], ct));
        Assert.True(await store.TryClaimDigestAsync(day, ["A.6.2.2", "6.1.2"], ct));

        // Another instance over the same tables (a second Functions instance): the day is taken.
        var other = new TableEvidenceStore(azurite.Tables(), prefix);
        Assert.False(await other.TryClaimDigestAsync(day, [], ct));
        await other.ReleaseDigestAsync(day, ct);
        await other.ReleaseDigestAsync(day, ct); // nothing left to give back: no error
        Assert.True(await store.TryClaimDigestAsync(day, ["A.6.2.2", "6.1.2"], ct));

        var last = await other.GetLastDigestBeforeAsync(day.AddDays(1), ct);
        Assert.Equal(day, last?.Day);
        Assert.Equal(["A.6.2.2", "6.1.2"], last!.Gaps);
        Assert.Equal(day.AddDays(-2), (await other.GetLastDigestBeforeAsync(day, ct))?.Day);
        Assert.Equal(day.AddDays(-40), (await other.GetLastDigestBeforeAsync(day.AddDays(-2), ct))?.Day);
        Assert.Null(await other.GetLastDigestBeforeAsync(day.AddDays(-40), ct));
    }
}
