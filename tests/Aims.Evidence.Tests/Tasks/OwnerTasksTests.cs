using System.Text.Json;
using Aims.Evidence.Cli;
using Aims.Evidence.Core.Catalog;
using Aims.Evidence.Core.Gaps;
using Aims.Evidence.Core.Services;
using Aims.Evidence.Core.Storage;
using Aims.Evidence.Core.Tasks;
using Aims.Evidence.Sqlite;
using Aims.Evidence.Tests.Cli;

namespace Aims.Evidence.Tests.Tasks;

/// <summary>Owners over a real SQLite file (audited, schema v9), the task derivation and <c>aims owner</c> / <c>aims tasks</c>.</summary>
public sealed class OwnerTasksTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static readonly DateTimeOffset Assigned = new(2026, 1, 10, 9, 0, 0, TimeSpan.Zero);

    /// <summary>A report in which every entry is missing (no evidence), then the given statuses.</summary>
    private static GapReport Report(IReadOnlyDictionary<string, EntryOwner> owners, params (string Id, GapStatus Status)[] statuses)
    {
        var report = new GapAnalyzer(IsoCatalog.Default, new GapOptions { Owners = owners }).Analyze([], []);
        var set = statuses.ToDictionary(s => s.Id, s => s.Status, StringComparer.Ordinal);
        return report with { Entries = report.Entries.Select(g => set.TryGetValue(g.Entry.Id, out var s) ? g with { Status = s } : g).ToArray() };
    }

    private static EntryOwner Owner(string id, string who, DateOnly? due = null) => new(id, who, due, "test", Assigned);

    [Fact]
    public void Owned_missing_weak_stale_and_nonconforming_entries_are_tasks_and_nothing_else_is()
    {
        var owners = new[]
        {
            Owner("A.6.2.2", "alice", new DateOnly(2026, 3, 1)),  // missing, due date given
            Owner("A.2.2", "bob"),                                  // weak, default due date
            Owner("6.1.2", "carol", new DateOnly(2026, 6, 30)),   // stale
            Owner("A.7.5", "dan", new DateOnly(2026, 2, 1)),      // nonconformity
            Owner("A.5.2", "erin", new DateOnly(2020, 1, 1)),     // covered: no task
            Owner("A.10.4", "frank", new DateOnly(2020, 1, 1)),   // not applicable: no task
            Owner("A.3.2", "gina", new DateOnly(2020, 1, 1)),     // suggested: no task
        }.ToDictionary(o => o.ControlId, StringComparer.Ordinal);
        var report = Report(owners, ("A.2.2", GapStatus.Weak), ("6.1.2", GapStatus.Stale), ("A.7.5", GapStatus.Nonconformity), ("A.5.2", GapStatus.Covered), ("A.10.4", GapStatus.NotApplicable), ("A.3.2", GapStatus.Suggested));

        var tasks = OwnerTasks.Derive(report, new DateOnly(2026, 3, 1), TimeSpan.FromDays(30));

        // Nonconformities first, then overdue before on time, earliest due first; due on the day itself is not overdue.
        Assert.Equal(["A.7.5", "A.2.2", "A.6.2.2", "6.1.2"], tasks.Select(t => t.EntryId));
        var byId = tasks.ToDictionary(t => t.EntryId, StringComparer.Ordinal);
        Assert.True(byId["A.7.5"].Overdue);
        Assert.Equal(new DateOnly(2026, 2, 9), byId["A.2.2"].DueDate); // assigned 2026-01-10 + 30 days
        Assert.True(byId["A.2.2"].Overdue);
        Assert.False(byId["A.6.2.2"].Overdue);
        Assert.False(byId["6.1.2"].Overdue);
        Assert.Equal("alice", byId["A.6.2.2"].Owner);
        Assert.Equal(GapStatus.Missing, byId["A.6.2.2"].Status);
        Assert.False(string.IsNullOrEmpty(byId["A.6.2.2"].StatusReason));
        Assert.Equal(IsoCatalog.Default.Entries.Single(e => e.Id == "A.6.2.2").Title, byId["A.6.2.2"].Title);

        // A day later the task due that day is overdue.
        Assert.True(OwnerTasks.Derive(report, new DateOnly(2026, 3, 2), TimeSpan.FromDays(30)).Single(t => t.EntryId == "A.6.2.2").Overdue);

        // Entries without an owner are never tasks, whatever their status.
        Assert.Empty(OwnerTasks.Derive(Report(new Dictionary<string, EntryOwner>()), new DateOnly(2026, 3, 1), TimeSpan.FromDays(30)));
    }

    [Fact]
    public async Task Owners_are_stored_replaced_cleared_and_audited_in_a_real_sqlite_file_and_reach_the_gap_report()
    {
        using var tmp = new TempDir();
        using (var store = new SqliteEvidenceStore(tmp.Db))
        {
            var evidence = new EvidenceService(store, IsoCatalog.Default);
            Assert.Null((await evidence.GetGapReportAsync(Ct)).Entries.Single(e => e.Entry.Id == "A.6.2.2").Owner);

            await store.SetOwnerAsync("A.6.2.2", "alice@example.org", new DateOnly(2027, 3, 31), "reviewer-1", Ct);
            await store.SetOwnerAsync("A.2.2", "bob", null, "reviewer-1", Ct);
            await store.SetOwnerAsync("A.6.2.2", "carol", null, "reviewer-2", Ct);

            var owners = await store.ListOwnersAsync(Ct);
            Assert.Equal(["A.2.2", "A.6.2.2"], owners.Select(o => o.ControlId));
            Assert.Equal("carol", owners[1].Owner);
            Assert.Null(owners[1].DueDate);
            Assert.Equal("reviewer-2", owners[1].Actor);

            // The cached gap report follows the write (the store version moves with the owners table).
            var owned = (await evidence.GetGapReportAsync(Ct)).Entries.Single(e => e.Entry.Id == "A.6.2.2");
            Assert.Equal("carol", owned.Owner?.Owner);

            Assert.True(await store.ClearOwnerAsync("A.6.2.2", "reviewer-2", Ct));
            Assert.False(await store.ClearOwnerAsync("A.6.2.2", "reviewer-2", Ct));
            Assert.Null((await evidence.GetGapReportAsync(Ct)).Entries.Single(e => e.Entry.Id == "A.6.2.2").Owner);

            var audit = (await store.ListAuditAsync(0, 100, Ct)).Where(a => a.Action == "control.owner").ToList();
            Assert.Equal(["A.6.2.2", "A.2.2", "A.6.2.2", "A.6.2.2"], audit.Select(a => a.Target));
            Assert.Contains("2027-03-31", audit[0].After, StringComparison.Ordinal);
            Assert.Contains("alice@example.org", audit[2].Before, StringComparison.Ordinal);
            Assert.Null(audit[3].After);
        }

        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        using var reopened = new SqliteEvidenceStore(tmp.Db);
        Assert.Equal("bob", (await reopened.ListOwnersAsync(Ct)).Single().Owner);
    }

    [Fact]
    public async Task A_digest_day_is_claimed_once_can_be_given_back_and_the_last_earlier_day_is_found_after_a_restart()
    {
        using var tmp = new TempDir();
        var day = new DateOnly(2026, 12, 3);
        using (var store = new SqliteEvidenceStore(tmp.Db))
        {
            Assert.True(await store.TryClaimDigestAsync(day.AddDays(-2), ["A.2.2"], Ct));
            Assert.True(await store.TryClaimDigestAsync(day, ["A.6.2.2", "6.1.2"], Ct));
            Assert.False(await store.TryClaimDigestAsync(day, ["A.6.2.2"], Ct));
            await store.ReleaseDigestAsync(day, Ct);
            Assert.True(await store.TryClaimDigestAsync(day, ["A.6.2.2", "6.1.2"], Ct));
        }

        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        using var reopened = new SqliteEvidenceStore(tmp.Db);
        Assert.False(await reopened.TryClaimDigestAsync(day, [], Ct));
        var last = await reopened.GetLastDigestBeforeAsync(day.AddDays(1), Ct);
        Assert.Equal(day, last?.Day);
        Assert.Equal(["A.6.2.2", "6.1.2"], last!.Gaps);
        Assert.Equal(day.AddDays(-2), (await reopened.GetLastDigestBeforeAsync(day, Ct))?.Day);
        Assert.Null(await reopened.GetLastDigestBeforeAsync(day.AddDays(-2), Ct));
    }

    [Fact]
    public async Task Cli_assigns_owners_and_lists_open_and_overdue_tasks()
    {
        using var tmp = new TempDir();
        using (var store = new SqliteEvidenceStore(tmp.Db))
        {
            await store.InitializeAsync(Ct);
        }

        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Assert.Equal(ExitCodes.Ok, (await CliTests.Run("owner", "A.6.2.2", "--owner", "alice@example.org", "--due", "2020-01-31", "--db", tmp.Db)).Code);
        Assert.Equal(ExitCodes.Ok, (await CliTests.Run("owner", "A.2.2", "--owner", "bob", "--db", tmp.Db)).Code);

        var all = await CliTests.Run("tasks", "--json", "--db", tmp.Db);
        Assert.Equal(ExitCodes.Ok, all.Code);
        var list = JsonDocument.Parse(all.Out).RootElement;
        Assert.Equal(2, list.GetProperty("open").GetInt32());
        Assert.Equal(1, list.GetProperty("overdue").GetInt32());
        var first = list.GetProperty("items")[0];
        Assert.Equal("A.6.2.2", first.GetProperty("entryId").GetString());
        Assert.Equal("missing", first.GetProperty("status").GetString());
        Assert.Equal("2020-01-31", first.GetProperty("dueDate").GetString());
        Assert.True(first.GetProperty("overdue").GetBoolean());

        var overdue = JsonDocument.Parse((await CliTests.Run("tasks", "--overdue", "--json", "--db", tmp.Db)).Out).RootElement.GetProperty("items");
        Assert.Equal(["A.6.2.2"], overdue.EnumerateArray().Select(t => t.GetProperty("entryId").GetString()));
        var text = await CliTests.Run("tasks", "--overdue", "--db", tmp.Db);
        Assert.Contains("alice@example.org", text.Out, StringComparison.Ordinal);
        Assert.Contains("2 open tasks, 1 overdue", text.Out, StringComparison.Ordinal);

        Assert.Equal(ExitCodes.Ok, (await CliTests.Run("owner", "A.6.2.2", "--clear", "--db", tmp.Db)).Code);
        Assert.Equal(1, JsonDocument.Parse((await CliTests.Run("tasks", "--json", "--db", tmp.Db)).Out).RootElement.GetProperty("open").GetInt32());

        // Bad input: one line, exit 2; a missing database: exit 1 and no file created.
        Assert.Equal(ExitCodes.Usage, (await CliTests.Run("owner", "Z.1", "--owner", "x", "--db", tmp.Db)).Code);
        Assert.Equal(ExitCodes.Usage, (await CliTests.Run("owner", "9.2", "--owner", "x", "--db", tmp.Db)).Code); // a container
        Assert.Equal(ExitCodes.Usage, (await CliTests.Run("owner", "A.2.2", "--owner", "x", "--due", "31/03/2027", "--db", tmp.Db)).Code);
        Assert.Equal(ExitCodes.Usage, (await CliTests.Run("owner", "A.2.2", "--owner", new string('x', 201), "--db", tmp.Db)).Code);
        Assert.Equal(ExitCodes.Usage, (await CliTests.Run("owner", "A.2.2", "--db", tmp.Db)).Code);
        var missing = Path.Combine(tmp.Path, "none.db");
        Assert.Equal(ExitCodes.Error, (await CliTests.Run("tasks", "--db", missing)).Code);
        Assert.False(File.Exists(missing));
    }
}
