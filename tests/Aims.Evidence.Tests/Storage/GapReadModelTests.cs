using System.Text.Json;
using Aims.Evidence.Core.Catalog;
using Aims.Evidence.Core.Classification;
using Aims.Evidence.Core.Gaps;
using Aims.Evidence.Core.Mapping;
using Aims.Evidence.Core.Services;
using Aims.Evidence.Core.Storage;
using Aims.Evidence.Sqlite;

namespace Aims.Evidence.Tests.Storage;

/// <summary>
/// The gap report from the SQLite read model (gap_evidence, kept by triggers) must equal, field for field, the
/// reference analysis over every evidence link, after every kind of write: new documents and versions, failed
/// documents, reviews (accept, reject, back to unreviewed), manual mappings, effective dates, stale dates, findings
/// (which never count as coverage and make an entry a nonconformity until later evidence closes them).
/// </summary>
public sealed class GapReadModelTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 28, 12, 0, 0, TimeSpan.Zero);
    private static readonly GapOptions Options = new() { Now = Now };
    private static readonly IsoCatalog Catalog = IsoCatalog.Default;

    // Containers and their children, leaves of both kinds, an id outside the catalog; few scores, so ties happen.
    private static readonly string[] Controls = ["6.1", "6.1.1", "6.1.2", "6.1.3", "9.2.1", "9.2.2", "5.2", "8.2", "10.2", "A.2.2", "A.6.2.4", "A.7.4", "X.99"];
    private static readonly double[] Scores = [0.4, 0.6, 0.75, 0.8, 0.9, 0.9];
    private static readonly string?[] DocTypes = [DocumentTypes.Policy, DocumentTypes.RiskAssessment, DocumentTypes.Procedure, DocumentTypes.ModelCard, DocumentTypes.ImpactAssessment, null];

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public async Task Read_model_report_equals_the_full_analysis_after_every_write(int seed)
    {
        var ct = TestContext.Current.CancellationToken;
        using var dir = new TempDir();
        using var store = new SqliteEvidenceStore(dir.Db);
        await store.InitializeAsync(ct);
        var service = new EvidenceService(store, Catalog, Options);

        // Half the writes go through a second instance on the same file, as another process would: the reading
        // instance caches the aggregates and must notice those writes too.
        using var other = new SqliteEvidenceStore(dir.Db);
        var random = new Random(seed);
        var passages = new List<string>();
        var mappings = new List<string>();
        var documents = new List<string>();
        var kinds = new HashSet<string>(StringComparer.Ordinal);
        var seen = new HashSet<GapStatus>();
        var containerEvidence = false;

        await AssertSameAsync(store, service, "empty store", ct);
        for (var step = 0; step < 70; step++)
        {
            var op = documents.Count < 3 ? 0 : random.Next(5);
            var writer = random.Next(2) == 0 ? store : other;
            string what;
            switch (op)
            {
                case 0:
                case 1:
                    var doc = await WriteDocumentAsync(writer, random, passages, mappings, ct);
                    documents.Add(doc.Id);
                    what = $"write {doc.Name} v{doc.Version} ({doc.Status}, {doc.DocType ?? "no type"})";
                    break;
                case 2:
                    var mapping = mappings[random.Next(mappings.Count)];
                    var state = (ReviewState)random.Next(3);
                    await writer.ReviewMappingAsync(mapping, state, "tester", null, ct);
                    what = $"review {mapping} {state}";
                    break;
                case 3:
                    var added = await writer.AddManualMappingAsync(passages[random.Next(passages.Count)], Controls[random.Next(Controls.Length)], "manual", "tester", random.Next(4) == 0 ? MappingPolarity.Finding : MappingPolarity.Supports, ct);
                    mappings.Add(added!.Id);
                    what = $"manual {added.ControlId}";
                    break;
                default:
                    var target = documents[random.Next(documents.Count)];
                    DateOnly? date = random.Next(3) == 0 ? null : DateOnly.FromDateTime(Now.UtcDateTime).AddDays(-random.Next(0, 800));
                    await writer.SetEffectiveDateAsync(target, date, "tester", ct);
                    what = $"effective date {date}";
                    break;
            }

            kinds.Add(what.Split(' ')[0]);
            var report = await AssertSameAsync(store, service, $"seed {seed}, step {step}: {what}", ct);
            seen.UnionWith(report.Entries.Select(e => e.Status));
            containerEvidence |= report.Entries.Any(e => e.Entry.Container && e.PassageCount > 0);
        }

        Assert.Equal(["effective", "manual", "review", "write"], kinds.Order(StringComparer.Ordinal));

        // Statuses the run must reach, or the comparison above proves little.
        Assert.Equal([GapStatus.Nonconformity, GapStatus.Missing, GapStatus.Stale, GapStatus.Weak, GapStatus.Suggested, GapStatus.Covered], seen.Order());
        Assert.True(containerEvidence);

        // The rebuild path (a catalog whose containers differ, then the real one again) gives the same report too.
        await store.GetGapEvidenceAsync(new Dictionary<string, string> { ["6.1.1"] = "9.2" }, ct);
        await AssertSameAsync(store, service, $"seed {seed}, after rebuilds", ct);
    }

    [Fact]
    public async Task A_database_filled_before_the_catalog_is_known_is_rebuilt_once_and_then_kept_by_triggers()
    {
        var ct = TestContext.Current.CancellationToken;
        using var dir = new TempDir();
        using (var store = new SqliteEvidenceStore(dir.Db))
        {
            var random = new Random(7);
            for (var i = 0; i < 8; i++)
            {
                await WriteDocumentAsync(store, random, [], [], ct);
            }
        }

        using var reopened = new SqliteEvidenceStore(dir.Db);
        var service = new EvidenceService(reopened, Catalog, Options);
        await AssertSameAsync(reopened, service, "first report (rebuild)", ct);
        await WriteDocumentAsync(reopened, new Random(8), [], [], ct);
        await AssertSameAsync(reopened, service, "after a write", ct);
    }

    [Fact]
    public async Task Container_counts_a_passage_mapped_to_two_children_once()
    {
        var ct = TestContext.Current.CancellationToken;
        using var dir = new TempDir();
        using var store = new SqliteEvidenceStore(dir.Db);
        var service = new EvidenceService(store, Catalog, Options);
        await service.GetGapReportAsync(ct); // registers the containers before the writes, so the insert trigger does the work
        var doc = new DocumentRecord { Id = "d1", Name = "risk.md", Sha256 = "s1", DocType = DocumentTypes.RiskAssessment, Status = DocumentStatus.Processed, IngestedAt = Now.AddDays(-1) };
        PassageWithMappings P(string id, params (string Control, double Score)[] ms) => new(
            new PassageRecord { Id = id, DocumentId = "d1", Text = "text " + id },
            ms.Select((m, k) => new MappingRecord { Id = $"{id}-{k}", PassageId = id, ControlId = m.Control, Score = m.Score, Method = "test" }).ToArray());
        await store.WriteDocumentAsync(new DocumentWrite(doc, [P("p1", ("6.1.1", 0.9), ("6.1.2", 0.8)), P("p2", ("6.1.2", 0.9))]), ct);

        var report = await service.GetGapReportAsync(ct);
        var container = report.Entries.Single(e => e.Entry.Id == "6.1");
        Assert.Equal(2, container.PassageCount);
        Assert.Equal(1, container.DocumentCount);
        Assert.Equal("p1-0", container.BestEvidence!.MappingId); // 0.9 tie: lowest mapping id
        Assert.Equal(2, report.Entries.Single(e => e.Entry.Id == "6.1.2").PassageCount);
        await AssertSameAsync(store, service, "container", ct);

        await store.ReviewMappingAsync("p2-0", ReviewState.Accepted, "tester", null, ct);
        report = await service.GetGapReportAsync(ct);
        Assert.Equal("p2-0", report.Entries.Single(e => e.Entry.Id == "6.1").BestEvidence!.MappingId);
        Assert.Equal(GapStatus.Covered, report.Entries.Single(e => e.Entry.Id == "6.1.2").Status);

        await store.ReviewMappingAsync("p1-0", ReviewState.Rejected, "tester", null, ct);
        await store.ReviewMappingAsync("p1-1", ReviewState.Rejected, "tester", null, ct);
        report = await service.GetGapReportAsync(ct);
        Assert.Equal(1, report.Entries.Single(e => e.Entry.Id == "6.1").PassageCount);
        Assert.Equal(GapStatus.Missing, report.Entries.Single(e => e.Entry.Id == "6.1.1").Status);
        await AssertSameAsync(store, service, "after rejections", ct);
    }

    private static async Task<GapReport> AssertSameAsync(SqliteEvidenceStore store, EvidenceService service, string because, CancellationToken ct)
    {
        var links = await store.GetEvidenceAsync(null, ct);
        var documents = await store.ListDocumentsAsync(false, ct);
        var present = documents.Where(d => d.Status == DocumentStatus.Processed && d.DocType is not null).Select(d => d.DocType!).ToHashSet(StringComparer.Ordinal);
        var reference = new GapAnalyzer(Catalog, Options).Analyze(links, present);
        var fromReadModel = new GapAnalyzer(Catalog, Options).Analyze(await store.GetGapEvidenceAsync(GapAnalyzer.ContainerMap(Catalog), ct));
        var fromService = await service.GetGapReportAsync(ct);
        var expected = JsonSerializer.Serialize(reference);
        Assert.True(expected == JsonSerializer.Serialize(fromReadModel), because + ": read model differs from the full analysis");
        Assert.True(expected == JsonSerializer.Serialize(fromService), because + ": service differs from the full analysis");
        return reference;
    }

    private static async Task<DocumentRecord> WriteDocumentAsync(SqliteEvidenceStore store, Random random, List<string> passages, List<string> mappings, CancellationToken ct)
    {
        var id = Guid.NewGuid().ToString("N");
        var doc = new DocumentRecord
        {
            Id = id,
            Name = $"doc-{random.Next(6)}.md", // a small pool of names, so new versions supersede old ones
            Sha256 = id,
            DocType = DocTypes[random.Next(DocTypes.Length)],
            Status = random.Next(10) == 0 ? DocumentStatus.Failed : DocumentStatus.Processed,
            IngestedAt = Now.AddDays(-random.Next(0, 800)).AddSeconds(random.Next(-43200, 43200)).ToOffset(TimeSpan.FromHours(random.Next(-5, 6))),
            EffectiveDate = random.Next(4) == 0 ? DateOnly.FromDateTime(Now.UtcDateTime).AddDays(-random.Next(0, 800)) : null,
            StatedDate = random.Next(3) == 0 ? DateOnly.FromDateTime(Now.UtcDateTime).AddDays(-random.Next(0, 800)) : null,
        };
        var rows = new List<PassageWithMappings>();
        for (var i = 0; i < random.Next(1, 7); i++)
        {
            var pid = $"{id}-p{i}";
            var ms = new List<MappingRecord>();
            for (var k = 0; k < random.Next(0, 4); k++)
            {
                var review = random.Next(8) switch { 0 => ReviewState.Accepted, 1 => ReviewState.Rejected, _ => ReviewState.Unreviewed };
                ms.Add(new MappingRecord { Id = Guid.NewGuid().ToString("N"), PassageId = pid, ControlId = Controls[random.Next(Controls.Length)], Score = Scores[random.Next(Scores.Length)], Method = "test", Rationale = "r", Review = review, Polarity = random.Next(6) == 0 ? MappingPolarity.Finding : MappingPolarity.Supports });
            }

            rows.Add(new PassageWithMappings(new PassageRecord { Id = pid, DocumentId = id, Ordinal = i, Page = 1 + i, Headings = ["H" + i], Text = $"passage {i} of {id}" }, ms));
            passages.Add(pid);
            mappings.AddRange(ms.Select(m => m.Id));
        }

        return await store.WriteDocumentAsync(new DocumentWrite(doc, rows), ct);
    }
}
