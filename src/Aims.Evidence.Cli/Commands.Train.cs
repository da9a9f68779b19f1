using System.CommandLine;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Aims.Evidence.Core.Catalog;
using Aims.Evidence.Core.Mapping.Trained;
using Aims.Evidence.Onnx;
using Aims.Evidence.Training;

using Aims.Evidence.Core.Mapping.Feedback;

namespace Aims.Evidence.Cli;

public static partial class AimsCli
{
    /// <summary>Where the tree's training labels and synthetic documents are copied next to the CLI.</summary>
    internal static string TrainingDataDirectory => Path.Combine(AppContext.BaseDirectory, "training");

    private static Command TrainCommand(TextWriter output, TextWriter error)
    {
        var corpus = new Option<string>("--corpus") { Description = "Folder of the real training documents (its files/ subfolder is used when present).", Required = true };
        var labels = new Option<string[]>("--labels") { Description = "Label files (JSONL); default: the labels shipped with aims.", AllowMultipleArgumentsPerToken = true };
        var synthetic = new Option<string?>("--synthetic") { Description = "Folder of our synthetic training documents; default: the ones shipped with aims." };
        var outFile = new Option<string>("--out") { Description = "Where to write the model.", Required = true };
        var report = new Option<string?>("--report") { Description = "Write the out-of-fold report (JSON) here." };
        var cache = new Option<string?>("--embedding-cache") { Description = "Keep passage vectors in this file between runs (same vectors, faster)." };
        var learner = new Option<string>("--learner") { Description = "auto (chosen by grouped cross-validation), trees or linear.", DefaultValueFactory = _ => "auto" };
        learner.AcceptOnlyFromAmong("auto", "trees", "linear");
        var polaritySet = new Option<string?>("--polarity-set") { Description = "Polarity evaluation set (JSONL) measured out of fold; default: the one shipped with aims." };
        var curve = new Option<bool>("--learning-curve") { Description = "Also cross-validate on 25% and 50% of the documents." };
        var reviews = new Option<double>("--review-fraction") { Description = "Also measure, out of fold, what the labels of this share of the documents teach as review decisions (e.g. 0.2)." };
        var sweep = new Option<bool>("--review-sweep") { Description = "With --review-fraction: also measure a grid of review-memory settings (how the shipped default was chosen)." };
        var polarityOnly = new Option<bool>("--polarity-only") { Description = "Only the polarity model: print its out-of-fold figures (all evidence passages, polarity set), with the written classifier's document types (MiniLM over a few texts per document; --embedding-cache applies); no pair scorer, --out is not written." };
        var polarityDump = new Option<string?>("--polarity-dump") { Description = "With --polarity-only: write each judged passage of the polarity set with its out-of-fold probability here (TSV), and every labelled evidence passage to FILE.evidence.tsv, for diagnosis." };
        var command = new Command("train", "Train the mapper on a labelled corpus: the same corpus and labels give the same model, byte for byte.")
        {
            corpus, labels, synthetic, outFile, report, cache, learner, curve, polaritySet, reviews, sweep, polarityOnly, polarityDump,
        };
        command.SetAction(async (parse, ct) =>
        {
            var corpusDir = parse.GetValue(corpus)!;
            if (!Directory.Exists(corpusDir))
            {
                throw new UsageException($"no such corpus folder: {corpusDir}");
            }

            var labelFiles = parse.GetValue(labels) is { Length: > 0 } given ? given : Directory.GetFiles(Path.Combine(TrainingDataDirectory, "labels"), "*.jsonl").Order(StringComparer.Ordinal).ToArray();
            foreach (var f in labelFiles.Where(f => !File.Exists(f)))
            {
                throw new UsageException($"no such label file: {f}");
            }

            var polarityPath = parse.GetValue(polaritySet) ?? Path.Combine(TrainingDataDirectory, "polarity", "set.jsonl");
            if (parse.GetValue(polaritySet) is not null && !File.Exists(polarityPath))
            {
                throw new UsageException($"no such polarity set: {polarityPath}");
            }

            var syntheticDir = parse.GetValue(synthetic) ?? Path.Combine(TrainingDataDirectory, "synthetic");
            var filesDir = Directory.Exists(Path.Combine(corpusDir, "files")) ? Path.Combine(corpusDir, "files") : corpusDir;
            var allLabels = labelFiles.SelectMany(LabelFiles.Read).Where(l => l.Labeller != "second").ToArray();
            var training = await TrainingCorpus.LoadAsync(allLabels, [filesDir, syntheticDir], ct).ConfigureAwait(false);
            foreach (var p in training.Problems)
            {
                await error.WriteLineAsync("warning: " + p).ConfigureAwait(false);
            }

            if (training.Documents.Count < 10)
            {
                throw new UsageException($"only {training.Documents.Count} labelled documents were found; training needs the corpus the labels point to");
            }

            var store = new VectorCache(parse.GetValue(cache));
            if (parse.GetValue(polarityOnly))
            {
                // The full run gives the polarity model the type ingestion will give it; this mode can only mirror that
                // while the document type is the written classifier's decision.
                if (TrainedModel.LoadEmbedded() is { DocTypeDecision: not "written" } shipped)
                {
                    throw new UsageException($"--polarity-only types documents with the written classifier, but model {shipped.Version} decides document types with the trained combiner; run the full training");
                }

                using var encoder = new LocalEmbeddingGenerator(LocalEmbeddingModel.MiniLM);
                var (_, figures) = await Trainer.TrainPolarityOnlyAsync(training, store.Wrap("minilm", encoder), new TrainOptions
                {
                    PolaritySet = File.Exists(polarityPath) ? PolarityDocument.Read(polarityPath) : [],
                    PolarityDump = parse.GetValue(polarityDump),
                    Log = m => error.WriteLine(m),
                }, ct).ConfigureAwait(false);
                store.Save();
                await output.WriteLineAsync("polarity, out of fold (grouped by document):").ConfigureAwait(false);
                foreach (var (k, v) in figures)
                {
                    await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"  {k,-28} {v:0.####}")).ConfigureAwait(false);
                }

                return ExitCodes.Ok;
            }

            using var mini = new LocalEmbeddingGenerator(LocalEmbeddingModel.MiniLM);
            using var arctic = new LocalEmbeddingGenerator(LocalEmbeddingModel.ArcticXs);
            var trainer = new Trainer(store.Wrap("minilm", mini), store.Wrap("arctic", arctic));
            var options = new TrainOptions
            {
                Learner = parse.GetValue(learner)!,
                LearningCurve = parse.GetValue(curve) ? [0.25, 0.5] : [],
                PolaritySet = File.Exists(polarityPath) ? PolarityDocument.Read(polarityPath) : [],
                ReviewFraction = parse.GetValue(reviews),
                ReviewSettings = parse.GetValue(sweep) ? ReviewSweep() : [ReviewMemoryOptions.Default],
                Log = m => error.WriteLine(m),
            };
            var clock = System.Diagnostics.Stopwatch.StartNew();
            var (model, result) = await trainer.TrainAsync(training, options, ct).ConfigureAwait(false);
            store.Save();
            var bytes = model.ToBytes();
            await File.WriteAllBytesAsync(parse.GetValue(outFile)!, bytes, ct).ConfigureAwait(false);
            await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"model {model.Version}: {bytes.Length / 1024.0 / 1024.0:0.00} MB, sha256 {TrainedModel.Hash(bytes)}, trained in {clock.Elapsed.TotalSeconds:0} s")).ConfigureAwait(false);
            await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"{result.Documents} documents, {result.Passages} passages, {result.LabelledPassages} labelled ({result.EvidencePassages} evidence); learner {result.Learner} ({string.Join(", ", result.LearnerComparison.Select(kv => $"{kv.Key} F1 {kv.Value:0.000}"))})")).ConfigureAwait(false);
            await output.WriteLineAsync("out of fold (grouped by document):").ConfigureAwait(false);
            foreach (var (k, v) in result.Metrics)
            {
                await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"  {k,-28} {v:0.####}")).ConfigureAwait(false);
            }

            await output.WriteLineAsync("reliability (predicted probability bin: pairs, mean predicted, observed right):").ConfigureAwait(false);
            foreach (var (lo, hi, n, mp, obs) in result.Reliability)
            {
                await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"  {lo:0.00}-{hi:0.00}: {n,7} {mp:0.000} {obs:0.000}")).ConfigureAwait(false);
            }

            await output.WriteLineAsync("candidate_recall@k: " + string.Join(" ", result.CandidateRecall.Select((r, i) => string.Create(CultureInfo.InvariantCulture, $"{i + 1}:{r:0.000}")))).ConfigureAwait(false);
            foreach (var (fraction, f1) in result.LearningCurve)
            {
                await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"learning curve {fraction:P0} of documents: passage_f1 {f1:0.000}")).ConfigureAwait(false);
            }

            var thin = result.PositivesPerEntry.Where(kv => kv.Value < 15).Select(kv => $"{kv.Key} ({kv.Value})").ToArray();
            await output.WriteLineAsync(thin.Length == 0 ? "every entry has at least 15 labelled positives" : "entries with fewer than 15 labelled positives: " + string.Join(", ", thin)).ConfigureAwait(false);
            if (parse.GetValue(report) is { } reportPath)
            {
                await File.WriteAllTextAsync(reportPath, JsonSerializer.Serialize(new
                {
                    model.Version,
                    result.Learner,
                    result.Documents,
                    result.Passages,
                    result.LabelledPassages,
                    result.EvidencePassages,
                    result.Metrics,
                    result.LearnerComparison,
                    Reliability = result.Reliability.Select(r => new { r.Low, r.High, r.Count, r.MeanP, r.Observed }),
                    result.CandidateRecall,
                    LearningCurve = result.LearningCurve.Select(c => new { c.Fraction, c.F1 }),
                    result.PositivesPerEntry,
                }, Json), ct).ConfigureAwait(false);
            }

            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command LabelsCommand(TextWriter output)
    {
        var from = new Option<string>("--from") { Description = "Folder of per-document labels by passage ordinal (one JSON per document).", Required = true };
        var files = new Option<string>("--files") { Description = "Folder of the labelled documents.", Required = true };
        var outFile = new Option<string>("--out") { Description = "Label file to write (JSONL, spans + hashes, no text).", Required = true };
        var labeller = new Option<string>("--labeller") { Description = "first, second, resolved or synthetic.", DefaultValueFactory = _ => "first" };
        var import = new Command("import", "Turn labels given per passage ordinal into span labels that hold no document text.") { from, files, outFile, labeller };
        import.SetAction(async (parse, ct) =>
        {
            var result = new List<DocumentLabels>();
            foreach (var file in Directory.GetFiles(parse.GetValue(from)!, "*.json").Order(StringComparer.Ordinal))
            {
                using var doc = JsonDocument.Parse(await File.ReadAllTextAsync(file, ct).ConfigureAwait(false));
                var name = doc.RootElement.GetProperty("file").GetString()!;
                var kind = parse.GetValue(labeller)!;
                result.Add(await LabelImporter.ImportAsync(file, Path.Combine(parse.GetValue(files)!, name), kind, kind == "synthetic", ct).ConfigureAwait(false));
            }

            LabelFiles.Write(parse.GetValue(outFile)!, result);
            await output.WriteLineAsync($"{result.Count} documents, {result.Sum(r => r.Spans.Count)} labelled spans written to {parse.GetValue(outFile)}").ConfigureAwait(false);
            return ExitCodes.Ok;
        });

        var a = new Argument<string>("first") { Description = "Label file of the first labeller." };
        var b = new Argument<string>("second") { Description = "Label file of the independent second labeller." };
        var agreeFiles = new Option<string>("--files") { Description = "Folder of the labelled documents.", Required = true };
        var agree = new Command("agree", "Agreement of two labellers on the documents both labelled: passage F1, Cohen's kappa on evidence / no evidence and on polarity (supports / finding).") { a, b, agreeFiles };
        agree.SetAction(async (parse, ct) =>
        {
            var first = LabelFiles.Read(parse.GetValue(a)!).ToDictionary(l => l.File, StringComparer.Ordinal);
            var second = LabelFiles.Read(parse.GetValue(b)!).ToDictionary(l => l.File, StringComparer.Ordinal);
            var common = first.Keys.Intersect(second.Keys, StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray();
            var c1 = await TrainingCorpus.LoadAsync(common.Select(f => first[f]), [parse.GetValue(agreeFiles)!], ct).ConfigureAwait(false);
            var c2 = await TrainingCorpus.LoadAsync(common.Select(f => second[f]), [parse.GetValue(agreeFiles)!], ct).ConfigureAwait(false);
            var agreement = LabelAgreement.Compare(c1, c2);
            await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"{common.Length} documents, {agreement.Passages} passages labelled by both")).ConfigureAwait(false);
            await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"passage F1 (primary ids, either labeller's primary or also ids count as agreement): {agreement.F1:0.000} (precision {agreement.Precision:0.000}, recall {agreement.Recall:0.000})")).ConfigureAwait(false);
            await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"strict passage F1 (primary ids only): {agreement.StrictF1:0.000}")).ConfigureAwait(false);
            await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"evidence / no evidence: agreement {agreement.Observed:0.000}, Cohen's kappa {agreement.Kappa:0.000}")).ConfigureAwait(false);
            await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"polarity on the {agreement.PolarityPassages} passages both call evidence (findings: {agreement.PolarityFindings.First} / {agreement.PolarityFindings.Second}): agreement {agreement.PolarityObserved:0.000}, Cohen's kappa {agreement.PolarityKappa:0.000}")).ConfigureAwait(false);
            await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"document type agreement: {agreement.DocTypeAgreement}/{common.Length}")).ConfigureAwait(false);
            return ExitCodes.Ok;
        });
        return new Command("labels", "Training labels: import labels given by passage ordinal, measure agreement between labellers.") { import, agree };
    }

    /// <summary>Passage vectors kept on disk between training runs, keyed by encoder and text hash.</summary>
    private sealed class VectorCache(string? path)
    {
        private readonly Dictionary<string, float[]> _vectors = Load(path);
        private bool _dirty;

        public EmbedTexts Wrap(string model, LocalEmbeddingGenerator generator) => async (texts, ct) =>
        {
            var keys = texts.Select(t => model + ":" + Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(t)))).ToArray();
            var missing = Enumerable.Range(0, texts.Count).Where(i => !_vectors.ContainsKey(keys[i])).ToArray();
            for (var start = 0; start < missing.Length; start += 512)
            {
                var chunk = missing.Skip(start).Take(512).ToArray();
                var generated = await generator.GenerateAsync(chunk.Select(i => texts[i]), cancellationToken: ct).ConfigureAwait(false);
                for (var k = 0; k < chunk.Length; k++)
                {
                    _vectors[keys[chunk[k]]] = generated[k].Vector.ToArray();
                }

                _dirty = true;
            }

            return keys.Select(k => _vectors[k]).ToArray();
        };

        public void Save()
        {
            if (path is null || !_dirty)
            {
                return;
            }

            using var w = new BinaryWriter(File.Create(path));
            w.Write(_vectors.Count);
            foreach (var (k, v) in _vectors)
            {
                w.Write(k);
                w.Write(v.Length);
                foreach (var x in v)
                {
                    w.Write(x);
                }
            }
        }

        private static Dictionary<string, float[]> Load(string? path)
        {
            var result = new Dictionary<string, float[]>(StringComparer.Ordinal);
            if (path is null || !File.Exists(path))
            {
                return result;
            }

            using var r = new BinaryReader(File.OpenRead(path));
            var n = r.ReadInt32();
            for (var i = 0; i < n; i++)
            {
                var k = r.ReadString();
                var v = new float[r.ReadInt32()];
                for (var j = 0; j < v.Length; j++)
                {
                    v[j] = r.ReadSingle();
                }

                result[k] = v;
            }

            return result;
        }
    }

    /// <summary>The shipped review-memory default first, then a grid around it.</summary>
    private static ReviewMemoryOptions[] ReviewSweep() =>
    [
        ReviewMemoryOptions.Default,
        .. from similarity in new[] { 0.25, 0.4, 0.55 }
           from neighbour in new[] { 1.0, 3.0 }
           from entry in new[] { 0.0, 0.5, 1.0 }
           from manual in new[] { false, true }
           select new ReviewMemoryOptions { MinSimilarity = similarity, NeighbourWeight = neighbour, EntryWeight = entry, ManualInEntryTerm = manual },
    ];
}
