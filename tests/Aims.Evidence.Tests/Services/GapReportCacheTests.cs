using System.Text;
using Aims.Evidence.Core.Services;
using Aims.Evidence.Core.Storage;
using Aims.Evidence.Hosting;
using Aims.Evidence.Local;

namespace Aims.Evidence.Tests.Services;

/// <summary>The cached gap report under concurrent readers right after a write (what the soak's 64 connections do).</summary>
public sealed class GapReportCacheTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>The real SQLite store, counting full evidence loads (one per analysis); the load is held for a moment so callers overlap.</summary>
    private sealed class CountingStore(IEvidenceStore inner) : IEvidenceStore, IStoreVersion
    {
        private int _loads;

        public int Loads => Volatile.Read(ref _loads);

        public int FailNext { get; set; }

        /// <summary>When set, full evidence loads wait for it (an analysis held in flight).</summary>
        public TaskCompletionSource? Gate { get; set; }

        public Task InitializeAsync(CancellationToken cancellationToken = default) => inner.InitializeAsync(cancellationToken);

        public Task<DocumentRecord?> GetCurrentByNameAsync(string name, CancellationToken cancellationToken = default) => inner.GetCurrentByNameAsync(name, cancellationToken);

        public Task<DocumentRecord?> FindCurrentBySha256Async(string sha256, CancellationToken cancellationToken = default) => inner.FindCurrentBySha256Async(sha256, cancellationToken);

        public Task<DocumentRecord?> GetDocumentAsync(string id, CancellationToken cancellationToken = default) => inner.GetDocumentAsync(id, cancellationToken);

        public Task<DocumentRecord> WriteDocumentAsync(DocumentWrite write, CancellationToken cancellationToken = default) => inner.WriteDocumentAsync(write, cancellationToken);

        public Task<IReadOnlyList<DocumentRecord>> ListDocumentsAsync(bool includeSuperseded = false, CancellationToken cancellationToken = default) => inner.ListDocumentsAsync(includeSuperseded, cancellationToken);

        public Task<IReadOnlyList<DocumentRecord>> GetVersionsAsync(string name, CancellationToken cancellationToken = default) => inner.GetVersionsAsync(name, cancellationToken);

        public Task<IReadOnlyList<PassageWithMappings>> GetPassagesAsync(string documentId, CancellationToken cancellationToken = default) => inner.GetPassagesAsync(documentId, cancellationToken);

        public async Task<IReadOnlyList<EvidenceLink>> GetEvidenceAsync(string? controlId = null, CancellationToken cancellationToken = default)
        {
            if (controlId is null)
            {
                Interlocked.Increment(ref _loads);
                await Task.Delay(200, cancellationToken);
                if (Gate is { } gate)
                {
                    await gate.Task.WaitAsync(cancellationToken);
                }
                if (FailNext > 0)
                {
                    FailNext--;
                    throw new InvalidOperationException("simulated read failure");
                }
            }

            return await inner.GetEvidenceAsync(controlId, cancellationToken);
        }

        public Task SaveRunAsync(RunRecord run, CancellationToken cancellationToken = default) => inner.SaveRunAsync(run, cancellationToken);

        public Task<IReadOnlyList<RunRecord>> ListRunsAsync(int limit = 20, CancellationToken cancellationToken = default) => inner.ListRunsAsync(limit, cancellationToken);

        public Task<long> GetVersionAsync(CancellationToken cancellationToken = default) => ((IStoreVersion)inner).GetVersionAsync(cancellationToken);
    }

    private static byte[] Doc(int i) => Encoding.UTF8.GetBytes($"""
        # AI policy {i}

        The organisation establishes an AI policy {i} approved by top management. The policy sets objectives for
        responsible AI, assigns roles and responsibilities, and is reviewed every year by the AI governance board,
        which reports to the executive committee on risks and incidents of AI system {i}.
        """);

    [Fact]
    public async Task Concurrent_callers_after_a_write_share_one_analysis_and_get_the_fresh_report()
    {
        using var dir = new TempDir();
        using var aims = await LocalAims.OpenAsync(dir.Db, new AimsSettings { Mapping = new() { Mapper = MapperKinds.Lexical } }, Ct);
        var store = new CountingStore(aims.Store);
        var evidence = new EvidenceService(store, aims.Catalog);

        await aims.CreatePipeline().IngestAsync("policy-1.md", Doc(1), Ct);
        var first = await Task.WhenAll(Enumerable.Range(0, 32).Select(_ => Task.Run(() => evidence.GetGapReportAsync(Ct), Ct)));
        Assert.Equal(1, store.Loads);

        // A write changes the store version: the next wave analyses once more, and sees the new document.
        await aims.CreatePipeline().IngestAsync("policy-2.md", Doc(2), Ct);
        var second = await Task.WhenAll(Enumerable.Range(0, 32).Select(_ => Task.Run(() => evidence.GetGapReportAsync(Ct), Ct)));
        Assert.Equal(2, store.Loads);

        var fresh = await new EvidenceService(aims.Store, aims.Catalog).GetGapReportAsync(Ct);
        Assert.All(first, r => Assert.Equal(first[0].Entries.Select(e => (e.Entry.Id, e.Status)), r.Entries.Select(e => (e.Entry.Id, e.Status))));
        Assert.All(second, r => Assert.Equal(fresh.Entries.Select(e => (e.Entry.Id, e.Status, e.PassageCount)), r.Entries.Select(e => (e.Entry.Id, e.Status, e.PassageCount))));
        Assert.True(second[0].Entries.Sum(e => e.PassageCount) > first[0].Entries.Sum(e => e.PassageCount), "the second document's evidence is in the report after the write");
    }

    [Fact]
    public async Task A_failed_shared_analysis_is_not_kept_and_the_next_call_analyses_again()
    {
        using var dir = new TempDir();
        using var aims = await LocalAims.OpenAsync(dir.Db, new AimsSettings { Mapping = new() { Mapper = MapperKinds.Lexical } }, Ct);
        var store = new CountingStore(aims.Store) { FailNext = 1 };
        var evidence = new EvidenceService(store, aims.Catalog);
        await aims.CreatePipeline().IngestAsync("policy-1.md", Doc(1), Ct);

        var wave = Enumerable.Range(0, 8).Select(_ => Task.Run(() => evidence.GetGapReportAsync(Ct), Ct)).ToArray();
        foreach (var call in wave)
        {
            await Assert.ThrowsAsync<InvalidOperationException>(() => call);
        }

        Assert.Equal(1, store.Loads);
        var report = await evidence.GetGapReportAsync(Ct);
        Assert.Equal(2, store.Loads);
        Assert.Contains(report.Entries, e => e.PassageCount > 0);
    }

    [Fact]
    public async Task While_an_analysis_runs_for_an_older_version_callers_get_the_last_report_without_starting_another()
    {
        using var dir = new TempDir();
        using var aims = await LocalAims.OpenAsync(dir.Db, new AimsSettings { Mapping = new() { Mapper = MapperKinds.Lexical } }, Ct);
        var store = new CountingStore(aims.Store);
        var evidence = new EvidenceService(store, aims.Catalog);
        await aims.CreatePipeline().IngestAsync("policy-1.md", Doc(1), Ct);
        var v1 = await evidence.GetGapReportAsync(Ct);
        Assert.Equal(1, store.Loads);

        // Version 2's analysis is held in flight; a write makes version 3.
        store.Gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await aims.CreatePipeline().IngestAsync("policy-2.md", Doc(2), Ct);
        var held = Task.Run(() => evidence.GetGapReportAsync(Ct), Ct);
        while (store.Loads < 2)
        {
            await Task.Delay(10, Ct);
        }

        await aims.CreatePipeline().IngestAsync("policy-3.md", Doc(3), Ct);

        // Version 3 callers get the version 1 report at once and start nothing.
        var during = await Task.WhenAll(Enumerable.Range(0, 16).Select(_ => Task.Run(() => evidence.GetGapReportAsync(Ct), Ct))).WaitAsync(TimeSpan.FromSeconds(20), Ct);
        Assert.Equal(2, store.Loads);
        Assert.False(held.IsCompleted);
        Assert.All(during, r => Assert.Equal(v1.Entries.Sum(e => e.PassageCount), r.Entries.Sum(e => e.PassageCount)));

        // Once it finishes, the next caller analyses version 3 and gets the fresh report with all three documents.
        store.Gate.SetResult();
        await held;
        store.Gate = null;
        var after = await evidence.GetGapReportAsync(Ct);
        Assert.Equal(3, store.Loads);
        var fresh = await new EvidenceService(aims.Store, aims.Catalog).GetGapReportAsync(Ct);
        Assert.Equal(fresh.Entries.Select(e => (e.Entry.Id, e.Status, e.PassageCount)), after.Entries.Select(e => (e.Entry.Id, e.Status, e.PassageCount)));
        Assert.True(after.Entries.Sum(e => e.PassageCount) > v1.Entries.Sum(e => e.PassageCount));
    }
}
