using Aims.Evidence.Azure.Tables;
using Aims.Evidence.Azure.Tests.Infrastructure;

namespace Aims.Evidence.Azure.Tests;

/// <summary>The evidence store contract on Azure Table Storage (Azurite), with a fresh table prefix per test.</summary>
[Trait(Tiers.Name, Tiers.Slow)]
public sealed class TableStoreContractTests(AzuriteFixture azurite) : EvidenceStoreContract
{
    protected override Task<StoreUnderTest> NewStoreAsync()
    {
        azurite.Require();
        return OpenAsync(AzuriteFixture.UniquePrefix());
    }

    private async Task<StoreUnderTest> OpenAsync(string prefix)
    {
        var store = new TableEvidenceStore(azurite.Tables(), prefix);
        await store.InitializeAsync(Ct);
        var keys = new TableApiKeyStore(azurite.Tables(), prefix);
        await keys.InitializeAsync(Ct);
        return new StoreUnderTest(store, new TableReviewStore(store, keys), store, store, store, store, () => OpenAsync(prefix));
    }
}
