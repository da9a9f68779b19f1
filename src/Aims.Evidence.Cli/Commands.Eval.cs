using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Aims.Evidence.Core.Classification;
using Aims.Evidence.Core.Evaluation;
using Aims.Evidence.Core.Extraction;
using Aims.Evidence.Core.Llm;
using Aims.Evidence.Core.Mapping;
using Aims.Evidence.Core.Mapping.Feedback;
using Aims.Evidence.Core.Segmentation;
using Aims.Evidence.Core.Storage;
using Aims.Evidence.Local;
using Spectre.Console;

namespace Aims.Evidence.Cli;

public static partial class AimsCli
{
    private static readonly JsonSerializerOptions EvalJson = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
        DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull,
    };

    private static Command EvalPolarityCommand(TextWriter output, TextWriter error)
    {
        var polarity = new Option<string>("--polarity") { Description = "Judged spans (JSONL, the format of the training polarity set).", Required = true };
        var filesOption = new Option<string>("--files") { Description = "Folder of the judged documents.", Required = true };
        var json = JsonOption();
        var command = new Command("eval-polarity", "Ingest a folder into a fresh database and measure the stored polarity (finding or supports) against judged spans: precision and recall of findings.") { polarity, filesOption, json };
        command.SetAction(async (parse, ct) =>
        {
            var path = parse.GetValue(polarity)!;
            var folder = parse.GetValue(filesOption)!;
            var judged = ReadJudgedPolarity(path);
            if (!Directory.Exists(folder))
            {
                throw new UsageException($"no such folder: {folder}");
            }

            var (counts, byDocument) = await MeasureFolderAsync(folder, "eval-polarity", aims => ScorePolarityByDocumentAsync(aims.Store, judged, error, ct), output, error, ct).ConfigureAwait(false);

            if (parse.GetValue(json))
            {
                await output.WriteLineAsync(JsonSerializer.Serialize(new
                {
                    counts.Passages,
                    counts.Findings,
                    counts.TruePositives,
                    counts.FalsePositives,
                    counts.Undecided,
                    precision = Math.Round(counts.Precision, 4),
                    recall = Math.Round(counts.Recall, 4),
                    documents = byDocument.Select(d => new { file = d.File, docType = d.DocType, d.Counts.Passages, d.Counts.Findings, d.Counts.TruePositives, d.Counts.FalsePositives, d.Counts.Undecided }),
                }, EvalJson)).ConfigureAwait(false);
                return ExitCodes.Ok;
            }

            await output.WriteLineAsync(PolarityLine(Path.GetFileName(path), counts)).ConfigureAwait(false);
            await output.WriteLineAsync("by document (type the classifier gave it: findings found / judged findings, false findings):").ConfigureAwait(false);
            foreach (var (file, docType, c) in byDocument)
            {
                await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"  {file}  [{docType ?? "-"}]  {c.TruePositives}/{c.Findings} found, {c.FalsePositives} false, of {c.Passages} judged passages")).ConfigureAwait(false);
            }

            return ExitCodes.Ok;
        });
        return command;
    }

    /// <summary>Judged polarity spans (the training polarity set's format), or a usage error naming the file.</summary>
    private static IReadOnlyList<Training.PolarityDocument> ReadJudgedPolarity(string path)
    {
        if (!File.Exists(path))
        {
            throw new UsageException($"no such polarity file: {path}");
        }

        try
        {
            return Training.PolarityDocument.Read(path);
        }
        catch (Exception ex) when (ex is JsonException or InvalidDataException)
        {
            throw new UsageException($"{path}: {ex.Message}");
        }
    }

    private static string PolarityLine(string file, PolarityCounts pc) => string.Create(CultureInfo.InvariantCulture, $"polarity on the judged passages of {file}: {pc.Passages} passages ({pc.Findings} findings), precision {pc.Precision:0.000} ({pc.TruePositives}/{pc.TruePositives + pc.FalsePositives}), recall {pc.Recall:0.000} ({pc.TruePositives}/{pc.Findings}){(pc.Undecided > 0 ? $", {pc.Undecided} without a polarity" : string.Empty)}");

    private static Command EvalCommand(TextWriter output, TextWriter error)
    {
        var goldOption = new Option<string>("--gold") { Description = "Gold labels (JSONL, one object per document).", Required = true };
        var filesOption = new Option<string>("--files") { Description = "Folder of the labelled documents (names relative to it).", Required = true };
        var top = new Option<int>("--confusions") { Description = "How many of the most frequent confusions to print.", DefaultValueFactory = _ => 15 };
        var reviewFraction = new Option<double>("--review-fraction")
        {
            Description = "Treat the labels of this share of the documents (0-1, e.g. 0.2) as review decisions, re-score with them, and measure the other documents before and after.",
        };
        var seed = new Option<int>("--seed") { Description = "Seed of the first draw of reviewed documents.", DefaultValueFactory = _ => 1 };
        var repeat = new Option<int>("--repeat") { Description = "How many draws (seeds seed, seed+1, ...); the figures are per draw and their mean.", DefaultValueFactory = _ => 1 };
        var reuse = new Option<bool>("--reuse-db")
        {
            Description = "With --db: when the database exists, measure it as it is instead of ingesting the folder again (e.g. review draws over one ingestion). The database must hold this folder ingested by this build and model.",
        };
        var thresholds = new Option<double[]>("--thresholds")
        {
            Description = "Also print the passage metrics as if the mapper suggested at each of these probabilities (from the scores it kept per passage), e.g. --thresholds 0.2 0.3 0.5: a diagnosis of the threshold's trade-off, not a setting.",
            AllowMultipleArgumentsPerToken = true,
        };
        var polarity = new Option<string?>("--polarity")
        {
            Description = "Also measure the stored polarity (finding or supports) against judged spans of these documents (JSONL, the format of the training polarity set).",
        };
        var json = JsonOption();
        var command = new Command("eval", "Ingest a labelled folder into a fresh database and measure mapping quality against gold labels.") { goldOption, filesOption, top, reviewFraction, seed, repeat, reuse, thresholds, polarity, json };
        command.SetAction(async (parse, ct) =>
        {
            var (goldPath, folder) = GoldAndFolder(parse, goldOption, filesOption);

            IReadOnlyList<GoldDocument> gold;
            try
            {
                gold = await GoldReader.ReadFileAsync(goldPath, ct).ConfigureAwait(false);
            }
            catch (FormatException ex)
            {
                throw new UsageException($"{goldPath}: {ex.Message}");
            }

            var keepDb = parse.GetResult(DbOption) is { Implicit: false };
            var db = keepDb ? parse.GetValue(DbOption)! : Path.Combine(Path.GetTempPath(), $"aims-eval-{Guid.NewGuid():N}.db");
            if (parse.GetValue(reuse) && !keepDb)
            {
                throw new UsageException("--reuse-db needs --db");
            }

            var reused = keepDb && parse.GetValue(reuse) && File.Exists(db);
            if (!reused)
            {
                DeleteDatabase(db);
            }

            var asJson = parse.GetValue(json);
            var polarityPath = parse.GetValue(polarity);
            var judged = polarityPath is null ? null : ReadJudgedPolarity(polarityPath);
            PolarityCounts? polarityCounts = null;
            var fraction = parse.GetValue(reviewFraction);
            if (fraction is < 0 or >= 1 || parse.GetValue(repeat) < 1)
            {
                throw new UsageException("--review-fraction must be in [0, 1) and --repeat at least 1");
            }

            Dictionary<string, ProducedDocument> produced;
            IReadOnlyList<ReviewDraw> draws = [];
            var candidateK = 0;
            IReviewRescorer? rescorer = null;
            try
            {
                using (var aims = await LocalAims.OpenAsync(db, cancellationToken: ct).ConfigureAwait(false))
                {
                    if (!reused)
                    {
                        await IngestEvaluationFolderAsync(aims, folder, output, error, ct).ConfigureAwait(false);
                    }

                    candidateK = (Unwrapped(aims.Mapper) as LlmControlMapper)?.CandidatesPerPassage ?? ProposerOf(aims.Mapper)?.RecommendedCandidates ?? 0;
                    produced = await BuildProducedAsync(aims.Store, aims.Catalog, aims.Mapper, ct, Math.Max(candidateK, 20)).ConfigureAwait(false);
                    rescorer = ReviewRescorers.Find(aims.Mapper);
                    if (judged is not null)
                    {
                        polarityCounts = await ScorePolarityAsync(aims.Store, judged, error, ct).ConfigureAwait(false);
                    }
                }

                if (fraction > 0)
                {
                    draws = await ReviewDrawsAsync(db, gold, produced, fraction, parse.GetValue(seed), parse.GetValue(repeat), rescorer, ct).ConfigureAwait(false);
                }
            }
            finally
            {
                if (!keepDb)
                {
                    Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
                    DeleteDatabase(db);
                }
            }

            var report = Evaluator.Evaluate(gold, produced, Math.Max(0, parse.GetValue(top)));
            var sweep = (parse.GetValue(thresholds) ?? []).Where(t => t is >= 0 and <= 1).Distinct().Order()
                .Select(t => (Threshold: t, Metrics: Evaluator.Evaluate(gold, produced.ToDictionary(kv => kv.Key, kv => kv.Value.AtThreshold(t), StringComparer.Ordinal), 0).Metrics)).ToArray();
            var recall = candidateK > 0 ? Evaluator.CandidateRecallAt(gold, produced, candidateK) : null;
            var curve = candidateK > 0 ? new[] { 1, 3, 5, 10, 15, 20 }.Select(k => Evaluator.CandidateRecallAt(gold, produced, k)).ToArray() : [];
            var tokensPerPage = candidateK > 0 ? await PromptTokensPerPageAsync(folder, candidateK, ct).ConfigureAwait(false) : 0;
            if (asJson)
            {
                var body = EvalReportJson(report, recall, curve, tokensPerPage);
                object full = draws.Count == 0 && sweep.Length == 0 && polarityCounts is null ? body : new
                {
                    report = body,
                    polarity = polarityCounts is null ? null : new { polarityCounts.Passages, polarityCounts.Findings, precision = Math.Round(polarityCounts.Precision, 4), recall = Math.Round(polarityCounts.Recall, 4), polarityCounts.Undecided },
                    review = draws.Count == 0 ? null : ReviewJson(fraction, draws),
                    thresholds = sweep.Length == 0 ? null : sweep.Select(s => new { threshold = s.Threshold, metrics = s.Metrics.Named.Where(kv => kv.Key.StartsWith("passage_", StringComparison.Ordinal) || kv.Key == "null_fpr").ToDictionary(kv => kv.Key, kv => Math.Round(kv.Value, 4), StringComparer.Ordinal) }),
                };
                await output.WriteLineAsync(JsonSerializer.Serialize(full, EvalJson)).ConfigureAwait(false);
            }
            else
            {
                PrintEvalReport(Console(output), report);
                if (recall is not null)
                {
                    await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"candidate_recall@{recall.K}: {recall.Recall:0.000} ({recall.Hits}/{recall.Passages}; the candidates the LLM judge is offered), LLM prompt tokens per page at k={recall.K}: {tokensPerPage:0}")).ConfigureAwait(false);
                    await output.WriteLineAsync("candidate_recall@k: " + string.Join(", ", curve.Select(c => string.Create(CultureInfo.InvariantCulture, $"@{c.K} {c.Recall:0.000}")))).ConfigureAwait(false);
                }

                if (polarityCounts is { } pc)
                {
                    await output.WriteLineAsync(PolarityLine(Path.GetFileName(polarityPath!), pc)).ConfigureAwait(false);
                }

                foreach (var (t, m) in sweep)
                {
                    await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"at threshold {t:0.00###}: passage_f1 {m.PassageF1:0.000}, passage_recall@3 {m.PassageRecallAt3:0.000}, passage_precision@3 {m.PassagePrecisionAt3:0.000}, null_fpr {m.NullFpr:0.000}")).ConfigureAwait(false);
                }

                if (draws.Count > 0)
                {
                    await PrintReviewDrawsAsync(output, fraction, draws).ConfigureAwait(false);
                }
            }

            if (keepDb)
            {
                await error.WriteLineAsync($"Evaluation database kept: {db}").ConfigureAwait(false);
            }

            return ExitCodes.Ok;
        });
        return command;
    }

    private static void DeleteDatabase(string db)
    {
        foreach (var suffix in new[] { string.Empty, "-wal", "-shm" })
        {
            File.Delete(db + suffix);
        }
    }

    /// <summary>One draw of reviewed documents: who was reviewed, what the reviews changed, the other documents before and after.</summary>
    private sealed record ReviewDraw(int Seed, IReadOnlyList<string> Reviewed, int Decisions, int Added, RescoreResult Rescore, EvaluationMetrics Before, EvaluationMetrics After);

    /// <summary>
    /// Per draw: a copy of the evaluation database, the labels of the drawn documents recorded as review decisions,
    /// one re-scoring (<see cref="ReviewLearner"/>, as after a review in <c>aims serve</c>), and the other documents
    /// measured before (the first ingestion) and after.
    /// </summary>
    private static async Task<IReadOnlyList<ReviewDraw>> ReviewDrawsAsync(
        string db, IReadOnlyList<GoldDocument> gold, Dictionary<string, ProducedDocument> before, double fraction, int seed, int repeat, IReviewRescorer? rescorer, CancellationToken ct)
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        var draws = new List<ReviewDraw>();
        for (var k = 0; k < repeat; k++)
        {
            var s = seed + k;
            var copy = $"{db}.review-{s}.db";
            DeleteDatabase(copy);
            foreach (var suffix in new[] { string.Empty, "-wal" })
            {
                if (File.Exists(db + suffix))
                {
                    File.Copy(db + suffix, copy + suffix, overwrite: true);
                }
            }

            try
            {
                using var store = new Sqlite.SqliteEvidenceStore(copy);
                await store.InitializeAsync(ct).ConfigureAwait(false);
                var catalog = Core.Catalog.IsoCatalog.Default;
                var reviewed = ReviewSimulation.Pick(gold, fraction, s);
                var current = (await store.ListDocumentsAsync(false, ct).ConfigureAwait(false)).ToDictionary(d => d.Name, StringComparer.Ordinal);
                int decisions = 0, added = 0;
                foreach (var doc in reviewed)
                {
                    if (!current.TryGetValue(doc.File, out var record))
                    {
                        continue;
                    }

                    var review = ReviewSimulation.FromGold(doc, await store.GetPassagesAsync(record.Id, ct).ConfigureAwait(false));
                    await ReviewSimulation.ApplyAsync(store, review, ct).ConfigureAwait(false);
                    decisions += review.Reviews.Count;
                    added += review.Added.Count;
                }

                var rescore = await new ReviewLearner(store, store, catalog, rescorer).RescoreAsync(ct).ConfigureAwait(false);
                var after = await BuildProducedAsync(store, catalog, null, ct).ConfigureAwait(false);
                var names = reviewed.Select(d => d.File).ToHashSet(StringComparer.Ordinal);
                var rest = gold.Where(d => !names.Contains(d.File)).ToArray();
                draws.Add(new ReviewDraw(s, [.. names], decisions, added, rescore, Evaluator.Evaluate(rest, before, 0).Metrics, Evaluator.Evaluate(rest, after, 0).Metrics));
            }
            finally
            {
                Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
                DeleteDatabase(copy);
            }
        }

        return draws;
    }

    /// <summary>A difference with its sign at three decimals; one that rounds to zero is "+0.000" (never "-0.000" or "-+0.000").</summary>
    public static string WithSign(double difference)
    {
        var rounded = Math.Round(difference, 3, MidpointRounding.AwayFromZero);
        return (rounded == 0 ? 0 : rounded).ToString("+0.000;-0.000;+0.000", CultureInfo.InvariantCulture);
    }

    private static async Task PrintReviewDrawsAsync(TextWriter output, double fraction, IReadOnlyList<ReviewDraw> draws)
    {
        await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"Reviews teach the mapper: the labels of {fraction:0.##} of the documents as review decisions; the other documents before -> after")).ConfigureAwait(false);
        foreach (var d in draws)
        {
            await output.WriteLineAsync(string.Create(
                CultureInfo.InvariantCulture,
                $"  seed {d.Seed}: {d.Reviewed.Count} documents reviewed ({d.Decisions} decisions, {d.Added} added by hand), {d.Rescore.PassagesChanged} of {d.Rescore.PassagesScored} passages re-scored; passage_f1 {d.Before.PassageF1:0.000} -> {d.After.PassageF1:0.000} ({WithSign(d.After.PassageF1 - d.Before.PassageF1)}), precision@3 {d.Before.PassagePrecisionAt3:0.000} -> {d.After.PassagePrecisionAt3:0.000}, recall@3 {d.Before.PassageRecallAt3:0.000} -> {d.After.PassageRecallAt3:0.000}, null_fpr {d.Before.NullFpr:0.000} -> {d.After.NullFpr:0.000}")).ConfigureAwait(false);
        }

        await output.WriteLineAsync(string.Create(
            CultureInfo.InvariantCulture,
            $"  mean over {draws.Count} draws: passage_f1 {draws.Average(d => d.Before.PassageF1):0.000} -> {draws.Average(d => d.After.PassageF1):0.000} ({WithSign(draws.Average(d => d.After.PassageF1 - d.Before.PassageF1))})")).ConfigureAwait(false);
    }

    private static object ReviewJson(double fraction, IReadOnlyList<ReviewDraw> draws) => new
    {
        fraction,
        meanF1Before = Math.Round(draws.Average(d => d.Before.PassageF1), 4),
        meanF1After = Math.Round(draws.Average(d => d.After.PassageF1), 4),
        draws = draws.Select(d => new
        {
            seed = d.Seed,
            reviewed = d.Reviewed,
            decisions = d.Decisions,
            added = d.Added,
            passagesChanged = d.Rescore.PassagesChanged,
            before = d.Before.Named.Where(kv => kv.Key != "unmatched_quotes").ToDictionary(kv => kv.Key, kv => Math.Round(kv.Value, 4), StringComparer.Ordinal),
            after = d.After.Named.Where(kv => kv.Key != "unmatched_quotes").ToDictionary(kv => kv.Key, kv => Math.Round(kv.Value, 4), StringComparer.Ordinal),
        }),
    };

    /// <summary>
    /// The stored polarity of each judged document's current passages against its judged spans, as
    /// <see cref="PolarityEvaluation.Decided"/> reads it (the LLM judge's polarity where it mapped the passage, else the
    /// trained model's kept probability).
    /// </summary>
    private static async Task<PolarityCounts> ScorePolarityAsync(Sqlite.SqliteEvidenceStore store, IReadOnlyList<Training.PolarityDocument> judged, TextWriter error, CancellationToken ct) =>
        (await ScorePolarityByDocumentAsync(store, judged, error, ct).ConfigureAwait(false)).Total;

    /// <summary>The stored polarity against judged spans: over all documents, and per document with the type the classifier gave it.</summary>
    private static async Task<(PolarityCounts Total, IReadOnlyList<(string File, string? DocType, PolarityCounts Counts)> Documents)> ScorePolarityByDocumentAsync(Sqlite.SqliteEvidenceStore store, IReadOnlyList<Training.PolarityDocument> judged, TextWriter error, CancellationToken ct)
    {
        var documents = (await store.ListDocumentsAsync(false, ct).ConfigureAwait(false)).Where(d => d.Status == DocumentStatus.Processed).ToDictionary(d => d.Name, StringComparer.Ordinal);
        var perDocument = new List<(string File, string? DocType, PolarityCounts Counts)>();
        foreach (var doc in judged)
        {
            if (!documents.TryGetValue(doc.File, out var stored))
            {
                await error.WriteLineAsync($"warning: {doc.File} (judged for polarity) was not ingested").ConfigureAwait(false);
                continue;
            }

            if (!string.Equals(stored.Sha256, doc.Sha256, StringComparison.OrdinalIgnoreCase))
            {
                await error.WriteLineAsync($"warning: {doc.File} differs from the judged version (sha256); its spans may point elsewhere").ConfigureAwait(false);
            }

            var passages = await store.GetPassagesAsync(stored.Id, ct).ConfigureAwait(false);
            var counts = PolarityEvaluation.Score([(
                [.. doc.Spans.Select(s => new PolarityLabel(s.Start, s.Length, s.IsFinding))],
                [.. passages.Select(p => new PolarityPrediction(p.Passage.Start, p.Passage.Length, PolarityEvaluation.Decided(
                    p.Passage.Candidates?.Finding is not null ? p.Passage.Candidates.IsFinding : null,
                    [.. p.Mappings.Select(m => (m.Method, m.Polarity))])))])]);
            perDocument.Add((doc.File, stored.DocType, counts));
        }

        return (PolarityCounts.Sum(perDocument.Select(d => d.Counts)), perDocument);
    }

    /// <summary>The produced result per current document name: predicted type and passages (document order) with suggested ids, score-descending.</summary>
    internal static async Task<Dictionary<string, ProducedDocument>> BuildProducedAsync(IEvidenceStore store, Core.Catalog.IsoCatalog catalog, IControlMapper? mapper, CancellationToken ct, int candidates = 0)
    {
        var proposer = mapper is null ? null : ProposerOf(mapper);
        var passages = new Dictionary<string, List<(int Ordinal, ProducedPassage Passage)>>(StringComparer.Ordinal);
        await foreach (var line in new Core.Services.EvidenceService(store, catalog).ExportPassagesAsync(ct).ConfigureAwait(false))
        {
            if (!passages.TryGetValue(line.Document.Name, out var list))
            {
                list = [];
                passages[line.Document.Name] = list;
            }

            list.Add((line.Passage.Ordinal, new ProducedPassage(line.Passage.Text, line.Mappings.Select(m => m.ControlId).ToArray())));
        }

        var result = new Dictionary<string, ProducedDocument>(StringComparer.Ordinal);
        foreach (var doc in await store.ListDocumentsAsync(false, ct).ConfigureAwait(false))
        {
            var list = (passages.GetValueOrDefault(doc.Name) ?? []).OrderBy(p => p.Ordinal).Select(p => p.Passage).ToArray();
            if (doc.Status == DocumentStatus.Processed && list.Length > 0)
            {
                // The scores the mapper kept per passage, for what-if thresholds.
                var stored = (await store.GetPassagesAsync(doc.Id, ct).ConfigureAwait(false)).Select(s => s.Passage).OrderBy(p => p.Ordinal).ToArray();
                if (stored.Length == list.Length)
                {
                    list = [.. list.Select((p, i) => p with { Scores = stored[i].Candidates })];
                }

                if (candidates > 0 && proposer is not null)
                {
                    // The candidates a judge would be offered: the proposer re-run over the stored passages.
                    var segments = stored.Select(p => p.ToPassage()).ToArray();
                    var docType = doc.DocType ?? DocumentTypes.Reference;
                    var offered = await proposer.ProposeCandidatesAsync(segments, new MappingContext(doc.Name, docType, doc.DocTypeConfidence, docType != DocumentTypes.Unrelated), candidates, ct).ConfigureAwait(false);
                    list = list.Select((p, i) => i < offered.Count ? p with { Candidates = offered[i].Select(s => s.ControlId).ToArray() } : p).ToArray();
                }
            }

            result[doc.Name] = new ProducedDocument(doc.Status == DocumentStatus.Processed ? doc.DocType : null, list);
        }

        return result;
    }

    /// <summary>The engine that proposes candidates: the mapper itself, or the one an LLM judge reads from.</summary>
    private static ICandidateProposer? ProposerOf(IControlMapper mapper) => Unwrapped(mapper) switch
    {
        ICandidateProposer c => c,
        LlmControlMapper l => l.Proposer,
        _ => null,
    };

    /// <summary>The engine under the polarity qualifier that the composition root puts around every mapper.</summary>
    private static IControlMapper Unwrapped(IControlMapper mapper) => mapper is PolarityMapper p ? p.Inner : mapper;

    /// <summary>Prompt tokens per page of the LLM mode at <paramref name="k"/> candidates (the estimator of <c>aims llm-cost</c>).</summary>
    private static async Task<double> PromptTokensPerPageAsync(string folder, int k, CancellationToken ct)
    {
        var docs = new List<(string, byte[])>();
        foreach (var file in EnumerateInputs([folder]))
        {
            docs.Add((file.Name, await File.ReadAllBytesAsync(file.Path, ct).ConfigureAwait(false)));
        }

        var estimate = await LlmCostEstimator.EstimateAsync(docs, PromptLibrary.Load(PromptLibrary.MapPassages), 8, k, cancellationToken: ct).ConfigureAwait(false);
        return Math.Round(estimate.BatchedTokensPerPage, 1);
    }

    private static object EvalReportJson(EvaluationReport report, CandidateRecall? recall = null, IReadOnlyList<CandidateRecall>? curve = null, double tokensPerPage = 0) => new
    {
        metrics = report.Metrics.Named.ToDictionary(kv => kv.Key, kv => kv.Key == "unmatched_quotes" ? kv.Value : Math.Round(kv.Value, 4), StringComparer.Ordinal)
            .Concat(recall is null ? [] : new[] { new KeyValuePair<string, double>("candidate_recall@k", Math.Round(recall.Recall, 4)), new("candidate_k", recall.K), new("llm_prompt_tokens_per_page", tokensPerPage) })
            .Concat((curve ?? []).Select(c => new KeyValuePair<string, double>($"candidate_recall@{c.K}", Math.Round(c.Recall, 4))))
            .GroupBy(kv => kv.Key).ToDictionary(g => g.Key, g => g.First().Value, StringComparer.Ordinal),
        counts = report.Metrics.Counts,
        documents = report.Documents,
        controls = report.Controls,
        confusions = report.Confusions,
    };

    private static void PrintEvalReport(IAnsiConsole console, EvaluationReport report)
    {
        if (!console.Profile.Capabilities.Interactive)
        {
            console.Profile.Width = Math.Max(console.Profile.Width, 200); // redirected output: keep file names on one line
        }

        var m = report.Metrics;
        var c = m.Counts;
        var metrics = new Table().AddColumns("Metric", "Value", "Counts");
        var detail = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["passage_recall@3"] = $"{c.ScoredHits}/{c.ScoredPassages}",
            ["passage_precision@3"] = $"{c.Top3Correct}/{c.Top3Predictions}",
            ["passage_f1"] = string.Empty,
            ["null_fpr"] = $"{c.NullFalsePositives}/{c.NullPassages}",
            ["unrelated_passage_rate"] = $"{c.UnrelatedSuggested}/{c.UnrelatedPassages}",
            ["doc_must_recall"] = $"{c.MustFound}/{c.MustTotal}",
            ["doc_precision"] = $"{c.DocSuggestedCorrect}/{c.DocSuggested}",
            ["doc_type_accuracy"] = $"{c.DocTypeCorrect}/{c.Documents}",
            ["unmatched_quotes"] = $"of {c.Quotes} quotes",
        };
        foreach (var (name, value) in m.Named)
        {
            metrics.AddRow(Markup.Escape(name), name == "unmatched_quotes" ? N(m.UnmatchedQuotes) : F(value), detail[name]);
        }

        console.Write(new Rule("[bold]Mapping quality[/]").LeftJustified());
        console.Write(metrics);

        var docs = new Table().AddColumns("Document", "Type (pred / gold)", "Recall@3", "Prec@3", "Null FP", "Must recall", "Doc prec", "Unmatched");
        foreach (var d in report.Documents)
        {
            var type = $"{(d.DocTypeCorrect ? "[green]" : "[red]")}{Markup.Escape(d.PredictedDocType ?? "-")}[/] / {Markup.Escape(d.GoldDocType)}";
            docs.AddRow(
                Markup.Escape(d.File) + (d.Produced ? string.Empty : " [red](not produced)[/]") + (d.AiRelevant ? string.Empty : " [grey](unrelated)[/]"),
                type,
                d.AiRelevant ? $"{d.Hits}/{d.ScoredPassages}" : "-",
                d.AiRelevant ? $"{d.Top3Correct}/{d.Top3Predictions}" : "-",
                d.AiRelevant ? $"{d.NullFalsePositives}/{d.NullPassages}" : "-",
                d.AiRelevant ? $"{d.MustFound}/{d.MustTotal}" : "-",
                d.AiRelevant ? $"{d.DocSuggestedCorrect}/{d.DocSuggested}" : $"{d.DocSuggested} ids",
                N(d.UnmatchedQuotes));
        }

        console.Write(docs);

        if (report.Confusions.Count > 0)
        {
            var confusions = new Table().AddColumns("Gold control", "Wrong top-3 prediction", "Count");
            foreach (var x in report.Confusions)
            {
                confusions.AddRow(Markup.Escape(x.GoldControl), Markup.Escape(x.PredictedControl), N(x.Count));
            }

            console.Write(confusions);
        }

        static string F(double v) => v.ToString("0.000", CultureInfo.InvariantCulture);
        static string N(int n) => n.ToString(CultureInfo.InvariantCulture);
    }
}
