using Aims.Evidence.Azure.Tables;
using Aims.Evidence.Azure.Tests.Infrastructure;

namespace Aims.Evidence.Azure.Tests;

/// <summary>Unfinished ingestion attempts in Table Storage on Azurite: counted, ended, and raised without lost increments.</summary>
[Trait(Tiers.Name, Tiers.Slow)]
public sealed class TableAttemptsTests(AzuriteFixture azurite)
{
    [Fact]
    public async Task Attempts_count_until_ended_and_concurrent_instances_lose_no_increment()
    {
        azurite.Require();
        var ct = TestContext.Current.CancellationToken;
        var prefix = AzuriteFixture.UniquePrefix();
        var store = new TableEvidenceStore(azurite.Tables(), prefix);
        await store.InitializeAsync(ct);
        const string sha = "5d41402abc4b2a76b9719d911017c592aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";

        Assert.Equal(0, await store.BeginAttemptAsync(sha, "a.md", ct));
        Assert.Equal(1, await store.BeginAttemptAsync(sha, "a.md", ct));
        await store.EndAttemptAsync(sha, ct);
        await store.EndAttemptAsync(sha, ct); // ending twice is harmless
        Assert.Equal(0, await store.BeginAttemptAsync(sha, "a.md", ct));
        await store.EndAttemptAsync(sha, ct);

        // Six instances (own clients, same tables) starting on the same bytes at once each see a different count.
        var seen = await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => Task.Run(() => new TableEvidenceStore(azurite.Tables(), prefix).BeginAttemptAsync(sha, "a.md", ct), ct)));
        Assert.Equal([0, 1, 2, 3, 4, 5], seen.Order());
    }
}
