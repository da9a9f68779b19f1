using Aims.Evidence.Core.Mapping;
using Aims.Evidence.Core.Storage;
using Aims.Evidence.Sqlite;

namespace Aims.Evidence.Tests.Storage;

/// <summary>A reviewer's manual mappings in the SQLite store: the same one twice is one row; a finding is its own.</summary>
public sealed class ManualMappingTests
{
    [Fact]
    public async Task The_same_manual_mapping_twice_is_one_row_and_a_finding_is_kept_apart()
    {
        var ct = TestContext.Current.CancellationToken;
        using var dir = new TempDir();
        using var store = new SqliteEvidenceStore(dir.Db);
        var doc = new DocumentRecord { Id = "d1", Name = "audit.md", Sha256 = "s1", Status = DocumentStatus.Processed, IngestedAt = DateTimeOffset.UtcNow };
        await store.WriteDocumentAsync(new DocumentWrite(doc, [new PassageWithMappings(new PassageRecord { Id = "d1-p1", DocumentId = "d1", Text = "The management review has not been held." }, [])]), ct);

        var first = await store.AddManualMappingAsync("d1-p1", "9.3.1", "reviewer", "tester", MappingPolarity.Supports, ct);
        var again = await store.AddManualMappingAsync("d1-p1", "9.3.1", "reviewer again", "tester", MappingPolarity.Supports, ct);
        Assert.Equal(first!.Id, again!.Id);
        var finding = await store.AddManualMappingAsync("d1-p1", "9.3.1", "not held", "tester", MappingPolarity.Finding, ct);
        Assert.NotEqual(first.Id, finding!.Id);
        Assert.Equal(MappingPolarity.Finding, (await store.GetMappingAsync(finding.Id, ct))!.Polarity);

        var passages = await store.GetPassagesAsync("d1", ct);
        Assert.Equal(2, passages.Single().Mappings.Count);

        // Once rejected, the same manual mapping can be added again as a new row.
        await store.ReviewMappingAsync(first.Id, ReviewState.Rejected, "tester", null, ct);
        Assert.NotEqual(first.Id, (await store.AddManualMappingAsync("d1-p1", "9.3.1", "after all", "tester", MappingPolarity.Supports, ct))!.Id);
    }
}
