using System.Globalization;
using Aims.Evidence.Cli;

namespace Aims.Evidence.Tools.Tests;

/// <summary>The benchmarks of aims-tools at tiny sizes, in process: they run, print their tables and keep the CLI's error contract.</summary>
[Collection(nameof(SoakGroup))]
[Trait(Tiers.Name, Tiers.Slow)]
public sealed class BenchTests : IDisposable
{
    private readonly TempDir _tmp = new("aims-tools-tests-");

    private string _dir => _tmp.Path;

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        _tmp.Dispose();
    }

    private static async Task<(int Code, string Out, string Err)> Tools(params string[] args)
    {
        using var output = new StringWriter(CultureInfo.InvariantCulture);
        using var error = new StringWriter(CultureInfo.InvariantCulture);
        var code = await AimsTools.RunAsync(args, output, error);
        return (code, output.ToString(), error.ToString());
    }

    /// <summary>Markdown documents of distinct sentences, long enough to be cut into passages.</summary>
    private string Corpus(int files)
    {
        var corpus = Path.Combine(_dir, "corpus");
        Directory.CreateDirectory(corpus);
        string[] topics = ["risk assessment", "data quality", "human oversight", "incident response", "impact assessment"];
        for (var i = 0; i < files; i++)
        {
            var topic = topics[i % topics.Length];
            var body = string.Join(' ', Enumerable.Range(0, 12).Select(k => $"The AI governance board reviews {topic} record {i}-{k} and the owner updates the register within {k + 2} days."));
            File.WriteAllText(Path.Combine(corpus, $"doc-{i:D2}.md"), $"# Procedure {i}: {topic}\n\n{body}\n\n## Records\n\n{body}\n");
        }

        return corpus;
    }

    [Fact]
    public async Task Bench_queries_times_the_gap_report_and_search_at_each_size_of_a_replicated_store()
    {
        var db = Path.Combine(_dir, "source.db");
        var corpus = Corpus(3);
        Assert.Equal(ExitCodes.Ok, await AimsCli.RunAsync(["ingest", corpus, "--db", db, "--mapper", "lexical"], TextWriter.Null, TextWriter.Null));

        var run = await Tools("bench", "queries", "--files", corpus, "--source-db", db, "--sizes", "20,40", "--iterations", "2", "--write-iterations", "2");
        Assert.True(run.Code == ExitCodes.Ok, run.Out + run.Err);
        Assert.StartsWith("# aims-tools bench queries", run.Out, StringComparison.Ordinal);
        Assert.Contains("\n| 20 | ", run.Out, StringComparison.Ordinal);
        Assert.Contains("\n| 40 | ", run.Out, StringComparison.Ordinal);
        Assert.Contains("growth 20 -> 40", run.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Bench_embeddings_compares_the_package_encoder_with_our_generator()
    {
        var run = await Tools("bench", "embeddings", "--model", "MiniLM", "--n", "16", "--corpus", Corpus(2));
        Assert.True(run.Code == ExitCodes.Ok, run.Out + run.Err);
        Assert.StartsWith("16 passages from ", run.Out, StringComparison.Ordinal);
        var row = run.Out.Split('\n').Single(l => l.StartsWith("| MiniLM |", StringComparison.Ordinal));
        Assert.Equal(11, row.Split('|').Length); // nine figures
    }

    [Fact]
    public async Task Bad_input_is_one_line_with_exit_2()
    {
        var missing = await Tools("bench", "pdf", "--files", Path.Combine(_dir, "no-such-folder"));
        Assert.Equal(ExitCodes.Usage, missing.Code);
        Assert.StartsWith("error: no such folder: ", missing.Err, StringComparison.Ordinal);
        Assert.Single(missing.Err.TrimEnd('\n').Split('\n'));

        var unknown = await Tools("bench", "frobnicate");
        Assert.Equal(ExitCodes.Usage, unknown.Code);
        Assert.EndsWith("Run 'aims-tools --help' for usage.", unknown.Err.TrimEnd(), StringComparison.Ordinal);
    }
}
