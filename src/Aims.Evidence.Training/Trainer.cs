using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Aims.Evidence.Core.Catalog;
using Aims.Evidence.Core.Classification;
using Aims.Evidence.Core.Mapping;
using Aims.Evidence.Core.Mapping.Trained;
using Microsoft.Extensions.AI;

namespace Aims.Evidence.Training;

public sealed record TrainOptions
{
    public int Folds { get; init; } = 5;

    public int Seed { get; init; } = 42001;

    /// <summary>"trees", "linear" or "auto" (the one with the better grouped cross-validated passage F1).</summary>
    public string Learner { get; init; } = "auto";

    public int Trees { get; init; } = 300;

    public int Leaves { get; init; } = 31;

    public double LearningRate { get; init; } = 0.05;

    /// <summary>Labelled passages used per document (evenly spaced), so long registers do not drown the rest.</summary>
    public int MaxPassagesPerDocument { get; init; } = 150;

    /// <summary>"No evidence" exemplars kept in the shipped bank (evenly spaced).</summary>
    public int MaxNullExemplars { get; init; } = 2500;

    public int MaxSuggestions { get; init; } = 3;

    /// <summary>The threshold maximises out-of-fold passage F1 among those whose out-of-fold null false-positive rate is at most this.</summary>
    public double MaxNullFpr { get; init; } = 0.30;

    /// <summary>Corpus fractions of the learning curve (empty: none).</summary>
    public IReadOnlyList<double> LearningCurve { get; init; } = [];

    /// <summary>The polarity evaluation set, measured out of fold (by document) when given.</summary>
    public IReadOnlyList<PolarityDocument> PolaritySet { get; init; } = [];

    /// <summary>
    /// When set, each judged passage of <see cref="PolaritySet"/> is written here (TSV: file, passage, label, in a finding
    /// record, out-of-fold probability, headings, text), and every labelled evidence passage to FILE.evidence.tsv (the same
    /// without headings and text), for diagnosis.
    /// </summary>
    public string? PolarityDump { get; init; }

    /// <summary>
    /// When above 0: out of fold, the labels of this share of the documents become review decisions and the other
    /// documents are re-scored with them (<see cref="Core.Mapping.Feedback.ReviewMemory"/>), for each of
    /// <see cref="ReviewSettings"/> (the first is the shipped default).
    /// </summary>
    public double ReviewFraction { get; init; }

    public IReadOnlyList<Core.Mapping.Feedback.ReviewMemoryOptions> ReviewSettings { get; init; } = [Core.Mapping.Feedback.ReviewMemoryOptions.Default];

    public Action<string>? Log { get; init; }
}

/// <summary>Out-of-fold figures of a training run (grouped by document).</summary>
public sealed record TrainReport
{
    public required string Learner { get; init; }

    public required int Documents { get; init; }

    public required int Passages { get; init; }

    public required int LabelledPassages { get; init; }

    public required int EvidencePassages { get; init; }

    public required Dictionary<string, double> Metrics { get; init; }

    public required Dictionary<string, double> LearnerComparison { get; init; }

    public required IReadOnlyList<(double Low, double High, int Count, double MeanP, double Observed)> Reliability { get; init; }

    public required IReadOnlyList<double> CandidateRecall { get; init; }

    public IReadOnlyList<(double Fraction, double F1)> LearningCurve { get; init; } = [];

    public required IReadOnlyDictionary<string, int> PositivesPerEntry { get; init; }
}

/// <summary>An <see cref="IEmbeddingGenerator{TInput, TEmbedding}"/> over an <see cref="EmbedTexts"/> delegate.</summary>
internal sealed class DelegateEmbeddings(EmbedTexts embed) : IEmbeddingGenerator<string, Embedding<float>>
{
    public async Task<GeneratedEmbeddings<Embedding<float>>> GenerateAsync(IEnumerable<string> values, EmbeddingGenerationOptions? options = null, CancellationToken cancellationToken = default)
    {
        var vectors = await embed([.. values], cancellationToken).ConfigureAwait(false);
        return [.. vectors.Select(v => new Embedding<float>(v))];
    }

    public object? GetService(Type serviceType, object? serviceKey = null) => null;

    public void Dispose()
    {
    }
}

/// <summary>Embeds texts with one packaged encoder (unit vectors).</summary>
public delegate Task<float[][]> EmbedTexts(IReadOnlyList<string> texts, CancellationToken cancellationToken);

/// <summary>
/// Trains the mapper: level-one linear models over both encoders' vectors (document type, evidence, entry) with
/// out-of-fold outputs grouped by document, then the pair scorer over <see cref="PairFeatures"/> (gradient-boosted
/// trees or logistic regression, chosen by grouped cross-validation), isotonic calibration on out-of-fold scores, the
/// decision threshold and the LLM candidate count.
/// </summary>
public sealed partial class Trainer(EmbedTexts miniLM, EmbedTexts arctic, IsoCatalog? catalog = null)
{
    private readonly IsoCatalog _catalog = catalog ?? IsoCatalog.Default;

    private sealed record Item(int Doc, int PassageIndex, PassageLabel Label);

    public async Task<(TrainedModel Model, TrainReport Report)> TrainAsync(TrainingCorpus corpus, TrainOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(corpus);
        ArgumentNullException.ThrowIfNull(options);
        var log = options.Log ?? (_ => { });
        var entryIds = _catalog.Mappable.Select(e => e.Id).ToArray();
        var entryIndex = entryIds.Select((id, i) => (id, i)).ToDictionary(x => x.id, x => x.i, StringComparer.Ordinal);
        var docTypes = DocumentTypes.All.ToArray();
        var docs = MapperDocuments(corpus);

        // 1. Vectors of every passage, both encoders.
        var texts = docs.SelectMany(d => d.Passages.Select(PassageEncoder.Text)).ToArray();
        log($"embedding {texts.Length} passages of {docs.Count} documents with both encoders");
        var mini = await miniLM(texts, cancellationToken).ConfigureAwait(false);
        var arc = await arctic(texts, cancellationToken).ConfigureAwait(false);
        var offset = new int[docs.Count];
        for (int d = 0, o = 0; d < docs.Count; o += docs[d].Passages.Count, d++)
        {
            offset[d] = o;
        }

        (float[] Mini, float[] Arctic) Vec(int doc, int p) => (mini[offset[doc] + p], arc[offset[doc] + p]);

        // 2. Training items: labelled passages, at most MaxPassagesPerDocument per document (evenly spaced).
        var items = new List<Item>();
        foreach (var d in docs)
        {
            var labelled = Enumerable.Range(0, d.Passages.Count).Where(i => d.PassageLabels[i] is not null).ToArray();
            foreach (var i in EvenlySpaced(labelled, options.MaxPassagesPerDocument))
            {
                items.Add(new Item(d.Index, i, d.PassageLabels[i]!));
            }
        }

        var fold = FoldsOf(docs, options.Folds);
        log($"{items.Count} training passages ({items.Count(i => i.Label.IsEvidence)} evidence), {options.Folds} folds grouped by document");

        // 3. Level one, out of fold: document type, evidence, entry.
        var docTypeOf = docs.Select(d => Math.Max(0, Array.IndexOf(docTypes, d.Labels.DocType))).ToArray();
        var oofDocScores = new double[docs.Count][];
        var written = new EmbeddingDocumentClassifier(new DelegateEmbeddings(miniLM));
        var lexical = new (bool Unrelated, double[] Probabilities, Classification Decision, double[] Combined)[docs.Count];
        foreach (var d in docs)
        {
            lexical[d.Index] = await DocumentTypeSignals.WrittenAsync(written, d.Extracted, d.Passages, docTypes, cancellationToken).ConfigureAwait(false);
        }
        // Level-one outputs for every passage of every document (held-out fold's models), for context features too.
        var passEvidence = docs.Select(d => new double[d.Passages.Count]).ToArray();
        var passEntry = docs.Select(d => new double[d.Passages.Count][]).ToArray();
        for (var k = 0; k < options.Folds; k++)
        {
            var (dt, ev, en) = LevelOne(docs, items, Vec, docTypeOf, docTypes.Length, entryIndex, d => fold[d] != k, options.Seed);
            for (var d = 0; d < docs.Count; d++)
            {
                if (fold[d] == k)
                {
                    oofDocScores[d] = DocumentTypeSignals.MeanPassageScores(dt, Enumerable.Range(0, docs[d].Passages.Count).Select(p => Vec(d, p)).ToArray());
                }
            }

            foreach (var d in docs.Where(d => fold[d.Index] == k))
            {
                for (var p = 0; p < d.Passages.Count; p++)
                {
                    var x = X(Vec(d.Index, p));
                    passEvidence[d.Index][p] = ev.Probabilities(x)[0];
                    passEntry[d.Index][p] = en.Probabilities(x);
                }
            }

            log($"level one, fold {k + 1}/{options.Folds} done");
        }

        var (finalDocType, finalEvidence, finalEntry) = LevelOne(docs, items, Vec, docTypeOf, docTypes.Length, entryIndex, _ => true, options.Seed);

        // Document level: the combiner of mean passage scores and lexical cues, out of fold, then on every document.
        var unrelatedType = Array.IndexOf(docTypes, DocumentTypes.Unrelated);
        var combinerX = docs.Select(d => DocumentTypeSignals.CombinerInput(oofDocScores[d.Index], lexical[d.Index].Probabilities)).ToArray();
        var oofDocType = new double[docs.Count][];
        for (var k = 0; k < options.Folds; k++)
        {
            var fit = docs.Where(d => fold[d.Index] != k).Select(d => d.Index).ToArray();
            var combiner = MlModels.Multinomial(fit.Select(i => combinerX[i]).ToArray(), fit.Select(i => docTypeOf[i]).ToArray(), docTypes.Length, options.Seed);
            foreach (var d in docs.Where(d => fold[d.Index] == k))
            {
                oofDocType[d.Index] = lexical[d.Index].Unrelated ? OneHot(docTypes.Length, unrelatedType) : combiner.Probabilities(combinerX[d.Index]);
            }
        }

        var finalCombiner = MlModels.Multinomial(combinerX, docTypeOf, docTypes.Length, options.Seed);

        // 4. Exemplars, profiles, priors, then the pair features (own document left out of the exemplar features).
        var model0 = BuildModelShell(docs, items, Vec, entryIds, entryIndex, docTypes, options, finalDocType, finalCombiner, finalEvidence, finalEntry);
        var profileModel = await WithProfilesAsync(model0, entryIds, cancellationToken).ConfigureAwait(false);
        var features = new PairFeatures(profileModel, _catalog);
        var rows = new double[items.Count][][];
        var labels = new bool[items.Count][];
        var context = docs.Select(d => PassageContext.Compute(passEntry[d.Index], passEvidence[d.Index], d.Passages)).ToArray();
        for (var i = 0; i < items.Count; i++)
        {
            var it = items[i];
            var d = docs[it.Doc];
            var v = Vec(it.Doc, it.PassageIndex);
            rows[i] = features.Compute(new PassageSignals
            {
                Passage = d.Passages[it.PassageIndex],
                PassageCount = d.Passages.Count,
                MiniLM = v.Mini,
                Arctic = v.Arctic,
                DocTypeProbabilities = oofDocType[it.Doc],
                EntryProbabilities = passEntry[it.Doc][it.PassageIndex],
                EvidenceProbability = passEvidence[it.Doc][it.PassageIndex],
                DocumentEntry = context[it.Doc].Document,
                NeighbourEntry = context[it.Doc].Neighbours[it.PassageIndex],
                ExcludeGroup = it.Doc,
            });
            labels[i] = entryIds.Select(id => Right(id, it.Label)).ToArray();
        }

        log($"pair features: {items.Count} x {entryIds.Length} rows of {PairFeatures.Names.Length}");

        // 5. Pair learner by grouped cross-validation.
        var comparison = new Dictionary<string, double>(StringComparer.Ordinal);
        var candidates = options.Learner == "auto" ? new[] { "trees", "linear" } : [options.Learner];
        (string Learner, double[][] Oof, double F1)? chosen = null;
        foreach (var learner in candidates)
        {
            var oof = CrossValidatePairs(rows, labels, items, fold, options, learner, items.Select(_ => true).ToArray());
            var cal = CrossFitCalibration(oof, labels, items, fold, options.Folds);
            var f1 = BestThreshold(cal, items, entryIds, options.MaxSuggestions).F1;
            comparison[learner] = Math.Round(f1, 4);
            log($"pair learner {learner}: out-of-fold passage F1 {f1:0.000}");
            if (chosen is null || f1 > chosen.Value.F1)
            {
                chosen = (learner, oof, f1);
            }
        }

        var (best, oofRaw, _) = chosen!.Value;
        var oofP = CrossFitCalibration(oofRaw, labels, items, fold, options.Folds);
        var (threshold, _) = BestThreshold(oofP, items, entryIds, options.MaxSuggestions, options.MaxNullFpr);
        var metrics = Metrics(oofP, items, docs, oofDocType, docTypes, entryIds, threshold, options.MaxSuggestions);
        if (options.ReviewFraction > 0)
        {
            foreach (var (name, value) in SimulateReviews(oofP, items, docs, entryIds, threshold, options, log))
            {
                metrics[name] = value;
            }
        }
        var reliability = ReliabilityTable(oofP, labels, out var ece);
        metrics["expected_calibration_error"] = ece;
        metrics["expected_calibration_error_p_ge_0.05"] = CalibrationErrorAbove(oofP, labels, 0.05);
        var recallAtK = CandidateRecall(oofP, items, entryIds, 30);
        var candidateK = Enumerable.Range(1, recallAtK.Count).FirstOrDefault(k => recallAtK[k - 1] >= 0.95, recallAtK.Count);
        metrics["candidate_k"] = candidateK;

        // Candidate floor: passages whose best probability is below it are not offered to a judge; at most 2% of the
        // labelled evidence passages fall below it (out of fold).
        var bestP = Enumerable.Range(0, items.Count).Where(i => items[i].Label.IsEvidence).Select(i => oofP[i].Max()).Order().ToArray();
        var candidateFloor = bestP.Length == 0 ? 0 : Math.Floor(bestP[(int)(bestP.Length * 0.02)] * 1000) / 1000;
        metrics["candidate_floor"] = candidateFloor;
        metrics["null_passages_not_offered"] = Math.Round(Enumerable.Range(0, items.Count).Where(i => !items[i].Label.IsEvidence).Count(i => oofP[i].Max() < candidateFloor) / (double)Math.Max(1, items.Count(i => !i.Label.IsEvidence)), 4);

        // Document type shown to users: the written classifier, replaced by the trained combiner only when the combiner
        // is right on significantly more documents (McNemar, 5%, on the documents where the two disagree in
        // rightness): a few documents either way is noise.
        var writtenRight = docs.Select(d => IsType(lexical[d.Index].Decision.DocType, d.Labels)).ToArray();
        var trainedRight = docs.Select(d => IsType(MostLikely(oofDocType[d.Index], docTypes), d.Labels)).ToArray();
        metrics["doc_type_accuracy_written"] = Math.Round(writtenRight.Count(r => r) / (double)docs.Count, 4);
        int onlyTrained = docs.Count(d => trainedRight[d.Index] && !writtenRight[d.Index]), onlyWritten = docs.Count(d => writtenRight[d.Index] && !trainedRight[d.Index]);
        var significant = onlyTrained > onlyWritten && Math.Pow(onlyTrained - onlyWritten, 2) / (onlyTrained + onlyWritten) > 3.84;
        metrics["doc_type_only_trained_right"] = onlyTrained;
        metrics["doc_type_only_written_right"] = onlyWritten;
        var docTypeDecision = significant ? "trained" : "written";
        metrics["candidate_recall@k"] = recallAtK[candidateK - 1];
        metrics["threshold"] = threshold;

        var curve = new List<(double, double)>();
        foreach (var fraction in options.LearningCurve)
        {
            var keepDocs = docs.Select(d => StableUnit(d.Labels.File, options.Seed + 1) < fraction).ToArray();
            var use = items.Select(it => keepDocs[it.Doc]).ToArray();
            var oof = CrossValidatePairs(rows, labels, items, fold, options, best, use);
            var cal = CrossFitCalibration(oof, labels, items, fold, options.Folds);
            curve.Add((fraction, BestThreshold(cal, items, entryIds, options.MaxSuggestions).F1));
            log($"learning curve {fraction:P0}: F1 {curve[^1].Item2:0.000}");
        }

        // 6. The shipped pair model on every row, calibrated on all out-of-fold scores.
        var (flatX, flatY) = Flatten(rows, labels, items.Select(_ => true).ToArray());
        var calibration = IsotonicCalibration.Fit(oofRaw.SelectMany(r => r).ToArray(), labels.SelectMany(l => l).ToArray());
        TreeEnsemble? trees = null;
        LinearModel? linear = null;
        double[]? mean = null, std = null;
        if (best == "trees")
        {
            trees = MlModels.Trees(flatX, flatY, options.Seed, options.Trees, options.Leaves, options.LearningRate);
        }
        else
        {
            (mean, std) = Standardiser(flatX);
            linear = MlModels.Logistic(Standardise(flatX, mean, std), flatY, options.Seed);
        }

        // 7. Polarity (finding or supporting) of evidence passages, out of fold then on all of them. It reads the
        // document type ingestion will give it: the decision of the classifier this model ships with, out of fold for
        // the mapper's documents; the polarity-only documents are in no document-type training, so the final models
        // type them.
        var mapperIndex = docs.ToDictionary(d => d.Labels.File, d => d.Index, StringComparer.Ordinal);
        var polarityTypes = new double[corpus.Documents.Count][];
        foreach (var d in corpus.Documents)
        {
            if (mapperIndex.TryGetValue(d.Labels.File, out var m))
            {
                polarityTypes[d.Index] = docTypeDecision == "written" ? lexical[m].Combined : oofDocType[m];
                continue;
            }

            polarityTypes[d.Index] = await IngestionTypesAsync(d, written, docTypes, docTypeDecision == "written" ? null : CombineAsync, cancellationToken).ConfigureAwait(false);
        }

        async Task<double[]> CombineAsync(TrainingDocument d, double[] writtenProbabilities)
        {
            var passageTexts = d.Passages.Select(PassageEncoder.Text).ToArray();
            var (dm, da) = (await miniLM(passageTexts, cancellationToken).ConfigureAwait(false), await arctic(passageTexts, cancellationToken).ConfigureAwait(false));
            var scores = DocumentTypeSignals.MeanPassageScores(finalDocType, [.. dm.Zip(da)]);
            return finalCombiner.Probabilities(DocumentTypeSignals.CombinerInput(scores, writtenProbabilities));
        }

        var polarity = TrainPolarity(corpus.Documents, polarityTypes, PolarityFolds(corpus.Documents, options.Folds), options, metrics, log);

        var summary = string.Create(CultureInfo.InvariantCulture, $"{docs.Count} documents, {items.Count} passages, learner {best}, out-of-fold passage_f1 {metrics["passage_f1"]:0.000}, ECE {ece:0.000}, document type by the {docTypeDecision} classifier");
        var model = profileModel with
        {
            Version = string.Empty,
            Summary = summary,
            PairTrees = trees,
            PairLinear = linear,
            PairMean = mean,
            PairStd = std,
            Calibration = calibration,
            Threshold = threshold,
            CandidateK = candidateK,
            CandidateFloor = candidateFloor,
            DocTypeDecision = docTypeDecision,
            Polarity = polarity,
        };

        // The version names the content: a hash of the model's bytes (with an empty version), so any change in data,
        // code or options that changes the model changes the version recorded on every mapping.
        model = model with { Version = "m4-" + Convert.ToHexStringLower(SHA256.HashData(model.ToBytes()))[..10] };

        var positives = entryIds.ToDictionary(id => id, id => docs.Sum(d => d.PassageLabels.Count(l => l is not null && l.Controls.Any(c => IsoCatalog.Equivalent(c, id)))), StringComparer.Ordinal);
        var report = new TrainReport
        {
            Learner = best,
            Documents = docs.Count,
            Passages = docs.Sum(d => d.Passages.Count),
            LabelledPassages = docs.Sum(d => d.PassageLabels.Count(l => l is not null)),
            EvidencePassages = docs.Sum(d => d.PassageLabels.Count(l => l?.IsEvidence == true)),
            Metrics = metrics,
            LearnerComparison = comparison,
            Reliability = reliability,
            CandidateRecall = recallAtK,
            LearningCurve = curve,
            PositivesPerEntry = positives,
        };
        return (model, report);
    }

    /// <summary>
    /// Only the polarity model, with the folds of <see cref="TrainAsync"/>: out-of-fold precision and recall on the
    /// labelled evidence passages and on <see cref="TrainOptions.PolaritySet"/>, and the model on all of them. The
    /// document types it reads are the written classifier's probabilities (MiniLM only, a few texts per document), which
    /// is what <see cref="TrainAsync"/> gives it when the model's document type is decided by the written classifier
    /// (<see cref="TrainedModel.DocTypeDecision"/> <c>written</c>); no pair scorer, so a change to
    /// <see cref="PolarityModel.Features"/> is measured in seconds, not minutes.
    /// </summary>
    public static async Task<(PolarityModel Model, Dictionary<string, double> Metrics)> TrainPolarityOnlyAsync(TrainingCorpus corpus, EmbedTexts miniLM, TrainOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(corpus);
        ArgumentNullException.ThrowIfNull(options);
        var docTypes = DocumentTypes.All.ToArray();
        var written = new EmbeddingDocumentClassifier(new DelegateEmbeddings(miniLM));
        var types = new double[corpus.Documents.Count][];
        foreach (var d in corpus.Documents)
        {
            types[d.Index] = await IngestionTypesAsync(d, written, docTypes, null, cancellationToken).ConfigureAwait(false);
        }

        var metrics = new Dictionary<string, double>(StringComparer.Ordinal);
        var model = TrainPolarity(corpus.Documents, types, PolarityFolds(corpus.Documents, options.Folds), options, metrics, options.Log ?? (_ => { }));
        return (model, metrics);
    }

    /// <summary>
    /// The type probabilities ingestion gives a document that no document-type model was trained on: the written
    /// classifier's, or, with <paramref name="combine"/> (the trained combiner decides), what it makes of the written
    /// classifier's probabilities, unless the vocabulary calls the document unrelated.
    /// </summary>
    private static async Task<double[]> IngestionTypesAsync(TrainingDocument d, EmbeddingDocumentClassifier written, string[] docTypes, Func<TrainingDocument, double[], Task<double[]>>? combine, CancellationToken cancellationToken)
    {
        var signals = await DocumentTypeSignals.WrittenAsync(written, d.Extracted, d.Passages, docTypes, cancellationToken).ConfigureAwait(false);
        return combine is null || signals.Unrelated ? signals.Combined : await combine(d, signals.Probabilities).ConfigureAwait(false);
    }

    /// <summary>
    /// The polarity model over every labelled evidence passage (label: the finding flag): sparse logistic regression
    /// (<see cref="SparseLogistic"/>) over <see cref="PolarityModel.Features"/> with the type probabilities of the
    /// classifier that types each document at ingestion (<paramref name="typeProbabilities"/>, by document index), threshold at the best out-of-fold F1 of the finding class; out-of-fold
    /// precision and recall on all evidence passages and on the polarity evaluation set go into <paramref name="metrics"/>.
    /// </summary>
    private static PolarityModel TrainPolarity(IReadOnlyList<TrainingDocument> docs, double[][] typeProbabilities, int[] fold, TrainOptions options, Dictionary<string, double> metrics, Action<string> log)
    {
        // How often the most likely type is the labelled one (the type ingestion predicts is noisier than the label).
        var allTypes = DocumentTypes.All.ToArray();
        metrics["polarity_doc_type_agreement"] = Math.Round(docs.Count(d => MostLikely(typeProbabilities[d.Index], allTypes) == d.Labels.DocType) / (double)docs.Count, 4);
        var items = docs.SelectMany(d => Enumerable.Range(0, d.Passages.Count).Where(i => d.PassageLabels[i]?.IsEvidence == true).Select(i => (Doc: d.Index, P: i))).ToArray();
        var records = docs.Select(d => PolarityModel.Records([.. d.Passages.Select(p => (p.Headings, p.Text))])).ToArray();
        double[] Input(int doc, int p) => PolarityModel.Features(docs[doc].Passages[p].Headings, docs[doc].Passages[p].Text, null, records[doc][p] >= 0, typeProbabilities[doc]);
        var x = items.Select(it => SparseLogistic.Sparse(Input(it.Doc, it.P))).ToArray();
        var y = items.Select(it => docs[it.Doc].PassageLabels[it.P]!.Finding).ToArray();
        var oof = new double[items.Length];
        var itemOf = items.Select((it, i) => (it, i)).ToDictionary(z => (z.it.Doc, z.it.P), z => z.i);
        for (var k = 0; k < options.Folds; k++)
        {
            var fit = Enumerable.Range(0, items.Length).Where(i => fold[items[i].Doc] != k).ToArray();
            var model = SparseLogistic.Fit(fit.Select(i => x[i]).ToArray(), fit.Select(i => y[i]).ToArray(), PolarityModel.Dimensions, options.Seed, PolarityL2, PolarityPositiveWeight);
            foreach (var d in docs.Where(d => fold[d.Index] == k && d.PassageLabels.Any(l => l?.IsEvidence == true)))
            {
                // Every passage of the held-out document is scored, so records pool as they do at ingestion.
                var raw = Enumerable.Range(0, d.Passages.Count).Select(p => itemOf.TryGetValue((d.Index, p), out var i) ? SparseLogistic.Probability(model, x[i]) : SparseLogistic.Probability(model, SparseLogistic.Sparse(Input(d.Index, p)))).ToArray();
                var pooled = PolarityModel.Pool(records[d.Index], raw);
                for (var p = 0; p < d.Passages.Count; p++)
                {
                    if (itemOf.TryGetValue((d.Index, p), out var i))
                    {
                        oof[i] = pooled[p];
                    }
                }
            }
        }

        static (double P, double R, double F1) Score(IEnumerable<(double P, bool Finding)> rows, double t)
        {
            int tp = 0, fp = 0, fn = 0;
            foreach (var (p, f) in rows)
            {
                tp += p >= t && f ? 1 : 0;
                fp += p >= t && !f ? 1 : 0;
                fn += p < t && f ? 1 : 0;
            }

            var precision = tp + fp == 0 ? 0 : (double)tp / (tp + fp);
            var recall = tp + fn == 0 ? 0 : (double)tp / (tp + fn);
            return (precision, recall, precision + recall == 0 ? 0 : 2 * precision * recall / (precision + recall));
        }

        var all = items.Select((_, i) => (oof[i], y[i])).ToArray();
        if (options.PolarityDump is { } evidenceDump)
        {
            // Every labelled evidence passage too (file, passage, label, in a record, out-of-fold probability), for diagnosis.
            File.WriteAllLines(evidenceDump + ".evidence.tsv", items.Select((it, i) => string.Join('\t', docs[it.Doc].Labels.File, it.P.ToString(CultureInfo.InvariantCulture), y[i] ? "finding" : "supports", records[it.Doc][it.P] >= 0 ? "record" : "-", oof[i].ToString("0.000", CultureInfo.InvariantCulture))));
        }

        var threshold = Enumerable.Range(5, 91).Select(t => t / 100.0).OrderByDescending(t => Score(all, t).F1).ThenBy(t => t).First();
        var (precision, recall, f1) = Score(all, threshold);
        metrics["polarity_threshold"] = threshold;
        metrics["polarity_precision"] = precision;
        metrics["polarity_recall"] = recall;
        metrics["polarity_f1"] = f1;
        log(string.Create(CultureInfo.InvariantCulture, $"polarity: {items.Length} evidence passages, {y.Count(f => f)} findings; out of fold at {threshold:0.00}: precision {precision:0.000}, recall {recall:0.000}"));
        if (docs.Any(d => d.Labels.PolarityOnly))
        {
            // The same figures over the mapper's documents alone, comparable with a run without polarity-only documents.
            var mapperRows = items.Select((it, i) => (it, i)).Where(z => !docs[z.it.Doc].Labels.PolarityOnly).Select(z => (oof[z.i], y[z.i])).ToArray();
            var (mp, mr, _) = Score(mapperRows, threshold);
            metrics["polarity_mapper_docs_precision"] = mp;
            metrics["polarity_mapper_docs_recall"] = mr;
            log(string.Create(CultureInfo.InvariantCulture, $"polarity over the mapper's documents ({mapperRows.Length} evidence passages, without the polarity-only ones): precision {mp:0.000}, recall {mr:0.000}"));
        }


        if (options.PolaritySet.Count > 0)
        {
            // Each judged span finds its passages by overlap, as span labels do, so the set survives re-segmentation.
            var set = new List<(double P, bool Finding)>();
            var dump = new List<string>();
            foreach (var doc in options.PolaritySet)
            {
                var training = docs.FirstOrDefault(d => d.Labels.File == doc.File);
                if (training is null)
                {
                    continue;
                }

                var judged = TrainingCorpus.BestSpans(training.Passages, doc.Spans, s => (s.Start, s.Length));
                for (var p = 0; p < judged.Length; p++)
                {
                    if (judged[p] is { } span && itemOf.TryGetValue((training.Index, p), out var i))
                    {
                        set.Add((oof[i], span.IsFinding));
                        var passage = training.Passages[p];
                        dump.Add(string.Join('\t', doc.File, p.ToString(CultureInfo.InvariantCulture), span.IsFinding ? "finding" : "supports", records[training.Index][p] >= 0 ? "record" : "-", oof[i].ToString("0.000", CultureInfo.InvariantCulture), Flat(string.Join(" > ", passage.Headings)), Flat(passage.Text)));
                    }
                }
            }

            if (options.PolarityDump is { } dumpPath)
            {
                File.WriteAllLines(dumpPath, dump);
            }

            var (sp, sr, _) = Score(set, threshold);
            metrics["polarity_set_passages"] = set.Count;
            metrics["polarity_set_findings"] = set.Count(s => s.Finding);
            metrics["polarity_set_precision"] = sp;
            metrics["polarity_set_recall"] = sr;
            log(string.Create(CultureInfo.InvariantCulture, $"polarity evaluation set: {set.Count} passages ({set.Count(s => s.Finding)} findings), out of fold precision {sp:0.000}, recall {sr:0.000}"));
        }

        return new PolarityModel { Linear = SparseLogistic.Fit(x, y, PolarityModel.Dimensions, options.Seed, PolarityL2, PolarityPositiveWeight), Threshold = threshold };
    }

    private static string Flat(string s) => s.ReplaceLineEndings(" ").Replace('\t', ' ');

    /// <summary>Per-example L2 on the touched weights, and findings (about 10% of evidence passages) weighted up.</summary>
    private const double PolarityL2 = 3e-4;

    private const double PolarityPositiveWeight = 1.5;

    private static double[] X((float[] Mini, float[] Arctic) v) => PairFeatures.LinearInput(v.Mini, v.Arctic);

    private static bool Right(string id, PassageLabel label) =>
        label.Controls.Any(c => IsoCatalog.Equivalent(c, id)) || label.Also.Any(c => IsoCatalog.Equivalent(c, id));

    private static string MostLikely(double[] probabilities, string[] docTypes) => docTypes[Array.IndexOf(probabilities, probabilities.Max())];

    private static bool IsType(string predicted, DocumentLabels labels) => predicted == labels.DocType || labels.DocTypeAlt.Contains(predicted);

    private static double[] OneHot(int n, int i)
    {
        var v = new double[n];
        v[i] = 1;
        return v;
    }

    private static (LinearModel DocType, LinearModel Evidence, LinearModel Entry) LevelOne(
        IReadOnlyList<TrainingDocument> docs,
        List<Item> items,
        Func<int, int, (float[] Mini, float[] Arctic)> vec,
        int[] docTypeOf,
        int docTypeCount,
        Dictionary<string, int> entryIndex,
        Func<int, bool> useDoc,
        int seed)
    {
        // Document type: up to 60 evenly spaced passages per document, labelled with the document's type.
        var dx = new List<double[]>();
        var dy = new List<int>();
        foreach (var d in docs.Where(d => useDoc(d.Index)))
        {
            foreach (var p in EvenlySpaced(Enumerable.Range(0, d.Passages.Count).ToArray(), 60))
            {
                dx.Add(X(vec(d.Index, p)));
                dy.Add(docTypeOf[d.Index]);
            }
        }

        var docType = MlModels.Multinomial(dx, dy, docTypeCount, seed);
        var train = items.Where(i => useDoc(i.Doc)).ToArray();
        var evidence = MlModels.Logistic(train.Select(i => X(vec(i.Doc, i.PassageIndex))).ToArray(), train.Select(i => i.Label.IsEvidence).ToArray(), seed);
        var ex = new List<double[]>();
        var ey = new List<int>();
        foreach (var i in train.Where(i => i.Label.IsEvidence))
        {
            foreach (var c in i.Label.Controls.Where(entryIndex.ContainsKey))
            {
                ex.Add(X(vec(i.Doc, i.PassageIndex)));
                ey.Add(entryIndex[c]);
            }
        }

        var entry = MlModels.Multinomial(ex, ey, entryIndex.Count, seed);
        return (docType, evidence, entry);
    }

    private TrainedModel BuildModelShell(
        IReadOnlyList<TrainingDocument> docs,
        List<Item> items,
        Func<int, int, (float[] Mini, float[] Arctic)> vec,
        string[] entryIds,
        Dictionary<string, int> entryIndex,
        string[] docTypes,
        TrainOptions options,
        LinearModel docType,
        LinearModel combiner,
        LinearModel evidence,
        LinearModel entry)
    {
        var exMini = new List<float[]>();
        var exArc = new List<float[]>();
        var exEntry = new List<int>();
        var exGroup = new List<int>();
        var exSource = new List<string>();
        void Add(Item i, int e)
        {
            var v = vec(i.Doc, i.PassageIndex);
            var p = docs[i.Doc].Passages[i.PassageIndex];
            exMini.Add(v.Mini);
            exArc.Add(v.Arctic);
            exEntry.Add(e);
            exGroup.Add(i.Doc);
            exSource.Add(string.Create(CultureInfo.InvariantCulture, $"{docs[i.Doc].Labels.File}#{p.Start}+{p.Length}"));
        }

        foreach (var i in items.Where(i => i.Label.IsEvidence))
        {
            foreach (var c in i.Label.Controls.Where(entryIndex.ContainsKey))
            {
                Add(i, entryIndex[c]);
            }
        }

        foreach (var i in EvenlySpaced(items.Where(i => !i.Label.IsEvidence).ToArray(), options.MaxNullExemplars))
        {
            Add(i, -1);
        }

        var dims = exMini[0].Length;
        var prior = new double[entryIds.Length];
        var byType = new double[docTypes.Length][];
        for (var t = 0; t < docTypes.Length; t++)
        {
            byType[t] = new double[entryIds.Length];
        }

        var typeTotals = new double[docTypes.Length];
        foreach (var i in items)
        {
            var t = Math.Max(0, Array.IndexOf(docTypes, docs[i.Doc].Labels.DocType));
            typeTotals[t]++;
            foreach (var c in i.Label.Controls.Where(entryIndex.ContainsKey))
            {
                prior[entryIndex[c]]++;
                byType[t][entryIndex[c]]++;
            }
        }

        var totalPositives = Math.Max(1, prior.Sum());
        for (var e = 0; e < prior.Length; e++)
        {
            prior[e] /= totalPositives;
        }

        for (var t = 0; t < docTypes.Length; t++)
        {
            for (var e = 0; e < entryIds.Length; e++)
            {
                // Share of the type's passages that evidence the entry, smoothed towards the overall rate.
                byType[t][e] = (byType[t][e] + (2 * prior[e])) / (typeTotals[t] + 2);
            }
        }

        var empty = QuantizedVectors.From([], dims);
        return new TrainedModel
        {
            Version = "shell",
            CatalogVersion = _catalog.Version,
            EntryIds = entryIds,
            DocTypes = docTypes,
            Dimensions = dims,
            ProfileMiniLM = empty,
            ProfileArctic = empty,
            ProfileEntry = [],
            Exemplars = new ExemplarBank
            {
                MiniLM = QuantizedVectors.From(exMini, dims),
                Arctic = QuantizedVectors.From(exArc, dims),
                Entry = [.. exEntry],
                Group = [.. exGroup],
                Source = [.. exSource],
            },
            EntryPrior = prior,
            DocTypeEntryPrior = byType,
            EntryModel = entry,
            EvidenceModel = evidence,
            DocTypeModel = docType,
            DocTypeCombiner = combiner,
            Calibration = new IsotonicCalibration { X = [], Y = [] },
            Threshold = 0.5,
            MaxSuggestions = options.MaxSuggestions,
            CandidateK = 5,
        };
    }

    /// <summary>Adds the vectors of our own profile statements (title, summary, example evidence) per entry.</summary>
    private async Task<TrainedModel> WithProfilesAsync(TrainedModel shell, string[] entryIds, CancellationToken cancellationToken)
    {
        var texts = new List<string>();
        var owner = new List<int>();
        for (var e = 0; e < entryIds.Length; e++)
        {
            var entry = _catalog[entryIds[e]];
            foreach (var s in new[] { $"{entry.Title}. {entry.Summary}" }.Concat(entry.Profile.Examples).Concat(entry.ExpectedEvidence))
            {
                texts.Add(s);
                owner.Add(e);
            }
        }

        var mini = await miniLM(texts, cancellationToken).ConfigureAwait(false);
        var arc = await arctic(texts, cancellationToken).ConfigureAwait(false);
        return shell with
        {
            ProfileMiniLM = QuantizedVectors.From(mini, shell.Dimensions),
            ProfileArctic = QuantizedVectors.From(arc, shell.Dimensions),
            ProfileEntry = [.. owner],
        };
    }

    private static double[][] CrossValidatePairs(double[][][] rows, bool[][] labels, List<Item> items, int[] fold, TrainOptions options, string learner, bool[] use)
    {
        var oof = new double[items.Count][];
        for (var k = 0; k < options.Folds; k++)
        {
            var trainMask = items.Select((it, i) => use[i] && fold[it.Doc] != k).ToArray();
            var (x, y) = Flatten(rows, labels, trainMask);
            Func<double[], double> score;
            if (learner == "trees")
            {
                var t = MlModels.Trees(x, y, options.Seed, options.Trees, options.Leaves, options.LearningRate);
                score = r => t.Score(r);
            }
            else
            {
                var (mean, std) = Standardiser(x);
                var lin = MlModels.Logistic(Standardise(x, mean, std), y, options.Seed);
                score = r => lin.Scores(Standardise([r], mean, std)[0])[0];
            }

            for (var i = 0; i < items.Count; i++)
            {
                if (fold[items[i].Doc] == k)
                {
                    oof[i] = rows[i].Select(score).ToArray();
                }
            }
        }

        return oof;
    }

    /// <summary>Calibrates each fold's out-of-fold scores with an isotonic map fitted on the other folds' (no score calibrates itself).</summary>
    private static double[][] CrossFitCalibration(double[][] raw, bool[][] labels, List<Item> items, int[] fold, int folds)
    {
        var result = new double[raw.Length][];
        for (var k = 0; k < folds; k++)
        {
            var fitIdx = Enumerable.Range(0, raw.Length).Where(i => fold[items[i].Doc] != k).ToArray();
            var cal = IsotonicCalibration.Fit(fitIdx.SelectMany(i => raw[i]).ToArray(), fitIdx.SelectMany(i => labels[i]).ToArray());
            foreach (var i in Enumerable.Range(0, raw.Length).Where(i => fold[items[i].Doc] == k))
            {
                result[i] = raw[i].Select(cal.Map).ToArray();
            }
        }

        return result;
    }

    /// <summary>The threshold with the best out-of-fold passage F1 among those keeping the null false-positive rate at most <paramref name="maxNullFpr"/> (else the one with the lowest rate).</summary>
    private static (double Threshold, double F1) BestThreshold(double[][] p, List<Item> items, string[] entryIds, int maxSuggestions, double maxNullFpr = 1)
    {
        var best = (Threshold: 0.5, F1: -1.0);
        var fallback = (Threshold: 0.85, Null: double.MaxValue, F1: 0.0);
        for (var step = 0; step <= 28; step++)
        {
            var t = Math.Round(0.15 + (step * 0.025), 3);
            var (r, pr, nullFpr) = PassageScores(p, items, entryIds, t, maxSuggestions);
            var f1 = r + pr == 0 ? 0 : 2 * r * pr / (r + pr);
            if (nullFpr <= maxNullFpr && f1 > best.F1 + 1e-9)
            {
                best = (t, f1);
            }

            if (nullFpr < fallback.Null)
            {
                fallback = (t, nullFpr, f1);
            }
        }

        return best.F1 >= 0 ? best : (fallback.Threshold, fallback.F1);
    }

    /// <summary>recall@3, precision@3 over evidence passages and the null false-positive rate, as the evaluation defines them.</summary>
    private static (double Recall, double Precision, double NullFpr) PassageScores(double[][] p, List<Item> items, string[] entryIds, double threshold, int maxSuggestions)
    {
        int evidence = 0, hits = 0, suggested = 0, right = 0, nulls = 0, nullHits = 0;
        for (var i = 0; i < items.Count; i++)
        {
            var top = Enumerable.Range(0, entryIds.Length).Where(e => p[i][e] >= threshold).OrderByDescending(e => p[i][e]).ThenBy(e => e).Take(maxSuggestions).ToArray();
            var label = items[i].Label;
            if (!label.IsEvidence)
            {
                nulls++;
                nullHits += top.Length > 0 ? 1 : 0;
                continue;
            }

            evidence++;
            hits += top.Any(e => label.Controls.Any(c => IsoCatalog.Equivalent(c, entryIds[e]))) ? 1 : 0;
            suggested += top.Length;
            right += top.Count(e => Right(entryIds[e], label));
        }

        return (hits / (double)Math.Max(1, evidence), right / (double)Math.Max(1, suggested), nullHits / (double)Math.Max(1, nulls));
    }

    private static Dictionary<string, double> Metrics(double[][] p, List<Item> items, IReadOnlyList<TrainingDocument> docs, double[][] oofDocType, string[] docTypes, string[] entryIds, double threshold, int maxSuggestions)
    {
        var (recall, precision, nullFpr) = PassageScores(p, items, entryIds, threshold, maxSuggestions);
        var m = new Dictionary<string, double>(StringComparer.Ordinal)
        {
            ["passage_recall@3"] = recall,
            ["passage_precision@3"] = precision,
            ["passage_f1"] = recall + precision == 0 ? 0 : 2 * recall * precision / (recall + precision),
            ["null_fpr"] = nullFpr,
        };

        // Document level (over the training passages of each document) and document type, out of fold.
        double must = 0, mustHit = 0, predicted = 0, predictedRight = 0, typeRight = 0;
        foreach (var d in docs)
        {
            var predictedType = MostLikely(oofDocType[d.Index], docTypes);
            typeRight += IsType(predictedType, d.Labels) ? 1 : 0;
            if (!d.Labels.AiRelevant)
            {
                continue;
            }

            var ids = new HashSet<string>(StringComparer.Ordinal);
            for (var i = 0; i < items.Count; i++)
            {
                if (items[i].Doc == d.Index && predictedType != DocumentTypes.Unrelated)
                {
                    foreach (var e in Enumerable.Range(0, entryIds.Length).Where(e => p[i][e] >= threshold).OrderByDescending(e => p[i][e]).Take(maxSuggestions))
                    {
                        ids.Add(entryIds[e]);
                    }
                }
            }

            must += d.Labels.Must.Count;
            mustHit += d.Labels.Must.Count(c => ids.Any(id => IsoCatalog.Equivalent(c, id)));
            predicted += ids.Count;
            predictedRight += ids.Count(id => d.Labels.Must.Concat(d.Labels.May).Any(c => IsoCatalog.Equivalent(c, id)));
        }

        m["doc_must_recall"] = mustHit / Math.Max(1, must);
        m["doc_precision"] = predictedRight / Math.Max(1, predicted);
        m["doc_type_accuracy"] = typeRight / Math.Max(1, docs.Count);

        // Unrelated documents: share of their passages with a suggestion.
        int unrelated = 0, unrelatedHit = 0;
        for (var i = 0; i < items.Count; i++)
        {
            if (!docs[items[i].Doc].Labels.AiRelevant)
            {
                unrelated++;
                var typeP = oofDocType[items[i].Doc];
                var isUnrelated = docTypes[Array.IndexOf(typeP, typeP.Max())] == DocumentTypes.Unrelated;
                unrelatedHit += !isUnrelated && p[i].Any(x => x >= threshold) ? 1 : 0;
            }
        }

        m["unrelated_passage_rate"] = unrelatedHit / (double)Math.Max(1, unrelated);

        // Precision of the confident suggestions (probability at least 0.80).
        int confident = 0, confidentRight = 0;
        for (var i = 0; i < items.Count; i++)
        {
            for (var e = 0; e < entryIds.Length; e++)
            {
                if (p[i][e] >= 0.80)
                {
                    confident++;
                    confidentRight += Right(entryIds[e], items[i].Label) ? 1 : 0;
                }
            }
        }

        m["suggestions_p_ge_0.80"] = confident;
        m["precision_p_ge_0.80"] = confidentRight / (double)Math.Max(1, confident);
        return m.ToDictionary(kv => kv.Key, kv => Math.Round(kv.Value, 4), StringComparer.Ordinal);
    }

    private static List<(double, double, int, double, double)> ReliabilityTable(double[][] p, bool[][] labels, out double ece)
    {
        var bins = new List<(double, double, int, double, double)>();
        var flatP = p.SelectMany(r => r).ToArray();
        var flatY = labels.SelectMany(r => r).ToArray();
        double weighted = 0;
        var edges = new[] { 0, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0001 };
        for (var b = 0; b < edges.Length - 1; b++)
        {
            var idx = Enumerable.Range(0, flatP.Length).Where(i => flatP[i] >= edges[b] && flatP[i] < edges[b + 1]).ToArray();
            if (idx.Length == 0)
            {
                continue;
            }

            var meanP = idx.Average(i => flatP[i]);
            var observed = idx.Average(i => flatY[i] ? 1.0 : 0.0);
            bins.Add((edges[b], Math.Min(1, edges[b + 1]), idx.Length, Math.Round(meanP, 4), Math.Round(observed, 4)));
            weighted += idx.Length * Math.Abs(meanP - observed);
        }

        ece = Math.Round(weighted / Math.Max(1, flatP.Length), 4);
        return bins;
    }

    /// <summary>ECE over the pairs scored at least <paramref name="floor"/> (the bulk near zero would hide miscalibration), ten equal-width bins.</summary>
    private static double CalibrationErrorAbove(double[][] p, bool[][] labels, double floor)
    {
        var pairs = p.SelectMany((r, i) => r.Select((x, e) => (P: x, Y: labels[i][e]))).Where(x => x.P >= floor).ToArray();
        var weighted = pairs.GroupBy(x => Math.Min(9, (int)(x.P * 10))).Sum(g => g.Count() * Math.Abs(g.Average(x => x.P) - g.Average(x => x.Y ? 1.0 : 0.0)));
        return Math.Round(weighted / Math.Max(1, pairs.Length), 4);
    }

    private static List<double> CandidateRecall(double[][] p, List<Item> items, string[] entryIds, int maxK)
    {
        var evidence = Enumerable.Range(0, items.Count).Where(i => items[i].Label.IsEvidence).ToArray();
        var ranks = evidence.Select(i =>
        {
            var order = Enumerable.Range(0, entryIds.Length).OrderByDescending(e => p[i][e]).ThenBy(e => e).ToArray();
            var first = Array.FindIndex(order, e => items[i].Label.Controls.Any(c => IsoCatalog.Equivalent(c, entryIds[e])));
            return first < 0 ? int.MaxValue : first + 1;
        }).ToArray();
        return Enumerable.Range(1, maxK).Select(k => Math.Round(ranks.Count(r => r <= k) / (double)Math.Max(1, ranks.Length), 4)).ToList();
    }

    private static (double[][] X, bool[] Y) Flatten(double[][][] rows, bool[][] labels, bool[] mask)
    {
        var x = new List<double[]>();
        var y = new List<bool>();
        for (var i = 0; i < rows.Length; i++)
        {
            if (!mask[i])
            {
                continue;
            }

            x.AddRange(rows[i]);
            y.AddRange(labels[i]);
        }

        return ([.. x], [.. y]);
    }

    private static (double[] Mean, double[] Std) Standardiser(double[][] x)
    {
        var n = x[0].Length;
        var mean = new double[n];
        var std = new double[n];
        foreach (var r in x)
        {
            for (var j = 0; j < n; j++)
            {
                mean[j] += r[j] / x.Length;
            }
        }

        foreach (var r in x)
        {
            for (var j = 0; j < n; j++)
            {
                std[j] += (r[j] - mean[j]) * (r[j] - mean[j]) / x.Length;
            }
        }

        return (mean, std.Select(s => Math.Max(1e-6, Math.Sqrt(s))).ToArray());
    }

    private static double[][] Standardise(double[][] x, double[] mean, double[] std) =>
        x.Select(r => r.Select((v, j) => (v - mean[j]) / std[j]).ToArray()).ToArray();

    /// <summary>Documents labelled for the polarity model only stay out of every other stage (re-indexed without them).</summary>
    private static IReadOnlyList<TrainingDocument> MapperDocuments(TrainingCorpus corpus) =>
        corpus.Documents.Any(d => d.Labels.PolarityOnly)
            ? corpus.Documents.Where(d => !d.Labels.PolarityOnly).Select((d, i) => d with { Index = i }).ToArray()
            : corpus.Documents;

    /// <summary>
    /// Folds of the polarity model: the mapper's documents keep the folds <see cref="TrainAsync"/> gives them, and the
    /// documents labelled for polarity only are dealt over the folds on their own, so adding them moves no other
    /// document to another fold.
    /// </summary>
    private static int[] PolarityFolds(IReadOnlyList<TrainingDocument> docs, int folds)
    {
        var fold = new int[docs.Count];
        foreach (var group in docs.GroupBy(d => d.Labels.PolarityOnly))
        {
            var members = group.ToArray();
            var within = FoldsOf(members.Select((d, i) => d with { Index = i }).ToArray(), folds);
            for (var i = 0; i < members.Length; i++)
            {
                fold[members[i].Index] = within[i];
            }
        }

        return fold;
    }

    private static int[] FoldsOf(IReadOnlyList<TrainingDocument> docs, int folds)
    {
        // Documents ordered by a hash of their name, then dealt round-robin: stable and balanced in count.
        var order = docs.OrderBy(d => Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(d.Labels.File))), StringComparer.Ordinal).ToArray();
        var fold = new int[docs.Count];
        for (var i = 0; i < order.Length; i++)
        {
            fold[order[i].Index] = i % folds;
        }

        return fold;
    }

    private static double StableUnit(string name, int seed)
    {
        var h = SHA256.HashData(Encoding.UTF8.GetBytes(seed.ToString(CultureInfo.InvariantCulture) + "|" + name));
        return BitConverter.ToUInt32(h, 0) / (double)uint.MaxValue;
    }

    private static IEnumerable<T> EvenlySpaced<T>(IReadOnlyList<T> values, int max)
    {
        if (values.Count <= max)
        {
            return values;
        }

        return Enumerable.Range(0, max).Select(k => values[(int)((long)k * values.Count / max)]);
    }
}
