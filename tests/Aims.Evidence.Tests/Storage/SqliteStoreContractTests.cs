using Aims.Evidence.Sqlite;
using Microsoft.Data.Sqlite;

namespace Aims.Evidence.Tests.Storage;

/// <summary>The evidence store contract on a real SQLite file.</summary>
public sealed class SqliteStoreContractTests : EvidenceStoreContract, IDisposable
{
    private readonly TempDir _tmp = new();
    private readonly List<SqliteEvidenceStore> _open = [];

    protected override Task<StoreUnderTest> NewStoreAsync() => OpenAsync(_tmp.Combine($"store-{Guid.NewGuid():N}.db"));

    private async Task<StoreUnderTest> OpenAsync(string path)
    {
        var store = new SqliteEvidenceStore(path);
        _open.Add(store);
        await store.InitializeAsync(Ct);
        return new StoreUnderTest(store, store, store, store, store, store, () => OpenAsync(path));
    }

    public void Dispose()
    {
        foreach (var store in _open)
        {
            store.Dispose();
        }

        SqliteConnection.ClearAllPools();
        _tmp.Dispose();
    }
}
