using System.Security.Cryptography;
using System.Text;
using Aims.Evidence.Core.Pipeline;
using Aims.Evidence.Core.Storage;
using Aims.Evidence.Local;

namespace Aims.Evidence.Tests.Pipeline;

/// <summary>
/// A document that killed the process is never retried blindly: the pipeline records an attempt in the SQLite file
/// before it parses and clears it when the document has a status; a process that dies leaves it behind (simulated
/// here by recording attempts the way a dying process leaves them, since a stack overflow cannot be caught in a test).
/// </summary>
[Trait(Tiers.Name, Tiers.Integration)]
public sealed class IngestionAttemptTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static readonly byte[] Policy = Encoding.UTF8.GetBytes(
        "# AI policy\n\nTop management approves this AI policy. Every AI system has a named owner who reviews its risks each year.\n");

    private static string Sha(byte[] bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    [Fact]
    public async Task A_document_that_stopped_the_process_twice_is_failed_with_the_reason_and_not_parsed_again()
    {
        using var tmp = new TempDir();
        using (var first = await LocalAims.OpenAsync(tmp.Db, cancellationToken: Ct))
        {
            // Two earlier processes started on these bytes and died before the document had a status.
            Assert.Equal(0, await first.Store.BeginAttemptAsync(Sha(Policy), "policy.md", Ct));
            Assert.Equal(1, await first.Store.BeginAttemptAsync(Sha(Policy), "policy.md", Ct));
        }

        using var aims = await LocalAims.OpenAsync(tmp.Db, cancellationToken: Ct);
        var outcome = await aims.CreatePipeline().IngestAsync("policy.md", Policy, Ct);

        Assert.Equal(IngestStatus.Failed, outcome.Status);
        Assert.Contains("stopped the process 2 times", outcome.Reason, StringComparison.Ordinal);
        var recorded = await aims.Store.GetCurrentByNameAsync("policy.md", Ct);
        Assert.Equal(DocumentStatus.Failed, recorded!.Status);
        Assert.Equal(outcome.Reason, recorded.Reason);
        Assert.Equal(0, recorded.PassageCount);

        // The attempt is over (the document has a status): nothing is left to count against it.
        Assert.Equal(0, await aims.Store.BeginAttemptAsync(Sha(Policy), "policy.md", Ct));
    }

    [Fact]
    public async Task One_unfinished_attempt_is_retried_and_a_finished_ingestion_leaves_no_attempt()
    {
        using var tmp = new TempDir();
        using var aims = await LocalAims.OpenAsync(tmp.Db, cancellationToken: Ct);
        Assert.Equal(0, await aims.Store.BeginAttemptAsync(Sha(Policy), "policy.md", Ct)); // one process died on it

        var retried = await aims.CreatePipeline().IngestAsync("policy.md", Policy, Ct);
        Assert.Equal(IngestStatus.Processed, retried.Status);

        var other = Encoding.UTF8.GetBytes("# Notes\n\nThe AI risk register lists every model with its owner and review date.\n");
        Assert.Equal(IngestStatus.Processed, (await aims.CreatePipeline().IngestAsync("notes.md", other, Ct)).Status);
        Assert.Equal(0, await aims.Store.BeginAttemptAsync(Sha(Policy), "policy.md", Ct));
        Assert.Equal(0, await aims.Store.BeginAttemptAsync(Sha(other), "notes.md", Ct));
    }

    [Fact]
    public async Task Workers_ingesting_the_same_bytes_at_once_share_one_attempt()
    {
        using var tmp = new TempDir();
        using var aims = await LocalAims.OpenAsync(tmp.Db, cancellationToken: Ct);
        // One pipeline per worker, as hosts may make them: the attempt is shared per store, not per pipeline.
        var outcomes = await Task.WhenAll(Enumerable.Range(0, 4).Select(i => Task.Run(() => aims.CreatePipeline().IngestAsync($"copy-{i}.md", Policy, Ct), Ct)));

        Assert.DoesNotContain(outcomes, o => o.Status == IngestStatus.Failed);
        Assert.Equal(0, await aims.Store.BeginAttemptAsync(Sha(Policy), "copy-0.md", Ct));
    }
}
