using System.Globalization;
using Aims.Evidence.Core.Catalog;
using Aims.Evidence.Core.Classification;
using Aims.Evidence.Core.Mapping.Feedback;
using Aims.Evidence.Core.Segmentation;

namespace Aims.Evidence.Core.Mapping.Trained;

/// <summary>
/// The trained mapper: every (passage, entry) pair gets <see cref="PairFeatures"/> and the trained pair scorer's
/// calibrated probability that the mapping is right; entries at or above the model's threshold are suggested (at most
/// <see cref="TrainedModel.MaxSuggestions"/>). Rationales name the nearest labelled training passage by its source and
/// span, the matched keywords and the deciding signals.
/// </summary>
public sealed class TrainedControlMapper : ICandidateProposer, IReviewRescorer
{
    private readonly TrainedModel _model;
    private readonly PassageEncoder _encoder;
    private readonly PairFeatures _features;

    public TrainedControlMapper(TrainedModel model, PassageEncoder encoder, IsoCatalog? catalog = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(encoder);
        _model = model;
        _encoder = encoder;
        _features = new PairFeatures(model, catalog ?? IsoCatalog.Default);
        Name = "trained-" + model.Version;
    }

    public string Name { get; }

    public TrainedModel Model => _model;

    public int RecommendedCandidates => _model.CandidateK;

    public Task<IReadOnlyList<IReadOnlyList<MappingSuggestion>>> MapAsync(IReadOnlyList<Passage> passages, MappingContext context, CancellationToken cancellationToken = default) =>
        ScoreAsync(passages, context, _model.MaxSuggestions, _model.Threshold, forJudge: false, cancellationToken);

    public Task<IReadOnlyList<IReadOnlyList<MappingSuggestion>>> ProposeCandidatesAsync(IReadOnlyList<Passage> passages, MappingContext context, int k, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(k);
        return ScoreAsync(passages, context, k, 0, forJudge: true, cancellationToken);
    }

    public IReadOnlyList<MappingSuggestion> SelectSuggestions(IReadOnlyList<MappingSuggestion> candidates)
    {
        ArgumentNullException.ThrowIfNull(candidates);
        return [.. candidates.Where(c => c.Score >= _model.Threshold).Take(_model.MaxSuggestions)];
    }

    private async Task<IReadOnlyList<IReadOnlyList<MappingSuggestion>>> ScoreAsync(IReadOnlyList<Passage> passages, MappingContext context, int take, double threshold, bool forJudge, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(passages);
        ArgumentNullException.ThrowIfNull(context);
        var result = new IReadOnlyList<MappingSuggestion>[passages.Count];
        Array.Fill(result, Array.Empty<MappingSuggestion>());
        if (passages.Count == 0 || !context.AiRelevant || context.DocType == DocumentTypes.Unrelated)
        {
            return result;
        }

        var vectors = await _encoder.EncodeAsync(passages, cancellationToken).ConfigureAwait(false);
        // The classifier's probabilities for this document when it ran in the same ingestion; else the passages alone.
        var docTypes = DocumentTypeSignals.Recall(passages) ?? PairFeatures.DocTypeProbabilities(_model, vectors);
        var signals = passages.Select((p, i) => Signals(_model, p, passages.Count, vectors[i], docTypes)).ToArray();
        var (document, neighbours) = PassageContext.Compute(
            signals.Select(s => s.EntryProbabilities).ToArray(), signals.Select(s => s.EvidenceProbability).ToArray(), passages);
        for (var i = 0; i < passages.Count; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var passageSignals = signals[i] with { DocumentEntry = document, NeighbourEntry = neighbours[i] };
            var explain = new PairExplanation(_model.EntryIds.Length);
            var rows = _features.Compute(passageSignals, explain);
            var all = rows.Select((row, e) => (Entry: e, P: _model.Probability(row))).OrderByDescending(x => x.P).ThenBy(x => x.Entry).ToArray();
            if (!forJudge && context.Candidates is { } sink)
            {
                sink.Record(i, new PassageCandidates
                {
                    Threshold = _model.Threshold,
                    MaxSuggestions = _model.MaxSuggestions,
                    Method = MappingMethods.Trained,
                    Model = "aims-mapper@" + _model.Version,
                    Entries = [.. all.Where(x => x.P >= PassageCandidates.Floor).Take(PassageCandidates.Kept).Select(x => new EntryScore(_features.Entry(x.Entry).Id, Math.Round(x.P, 4)))],
                    Vectors = new PassageVectors(vectors[i].MiniLM, vectors[i].Arctic),
                    DocTypes = docTypes,
                });
            }

            var scored = all.Where(x => x.P >= threshold && x.P > 0).Take(take).ToArray();
            if (forJudge && scored.Length > 0 && (scored[0].P < _model.CandidateFloor || EvidenceGate.Reject(passages[i]) is not null))
            {
                continue; // clearly no evidence (or boilerplate the evidence gate rejects): nothing to offer a judge
            }

            result[i] = [.. scored.Select(x => Suggest(rows[x.Entry], x.Entry, x.P, explain))];
        }

        return result;
    }

    /// <inheritdoc/>
    public ExemplarBank? Learn(IReadOnlyList<ReviewDecision> decisions)
    {
        ArgumentNullException.ThrowIfNull(decisions);
        var index = _model.EntryIds.Select((id, i) => (id, i)).ToDictionary(x => x.id, x => x.i, StringComparer.Ordinal);
        var mini = new List<float[]>();
        var arctic = new List<float[]>();
        var entries = new List<int>();
        var sources = new List<string>();
        foreach (var passage in decisions.GroupBy(d => d.PassageId, StringComparer.Ordinal))
        {
            var first = passage.First();
            if (passage.Select(d => d.Candidates?.Vectors).FirstOrDefault(v => v is not null) is not { } v
                || v.MiniLM.Length != _model.Exemplars.MiniLM.Dimensions || v.Arctic.Length != _model.Exemplars.Arctic.Dimensions)
            {
                continue;
            }

            // Accepted wins over rejected for the same entry (rejected, then added by hand).
            var accepted = passage.Where(d => d.Accepted).Select(d => EntryIndex(d.ControlId)).Where(e => e >= 0).Distinct().Order().ToArray();
            var source = string.Create(CultureInfo.InvariantCulture, $"reviewed here: \"{first.DocumentName}\", p. {first.Page}");
            if (accepted.Length > 0)
            {
                foreach (var e in accepted)
                {
                    mini.Add(v.MiniLM);
                    arctic.Add(v.Arctic);
                    entries.Add(e);
                    sources.Add(source);
                }
            }
            else if (passage.Any(d => !d.Accepted && !d.Manual))
            {
                mini.Add(v.MiniLM);
                arctic.Add(v.Arctic);
                entries.Add(-1); // every suggestion rejected, nothing added: an example of no evidence
                sources.Add(source);
            }
        }

        return entries.Count == 0 ? null : new ExemplarBank
        {
            MiniLM = QuantizedVectors.From(mini, _model.Exemplars.MiniLM.Dimensions),
            Arctic = QuantizedVectors.From(arctic, _model.Exemplars.Arctic.Dimensions),
            Entry = [.. entries],
            Group = [.. entries.Select(_ => ReviewedGroup)],
            Source = [.. sources],
        };

        int EntryIndex(string id) =>
            index.TryGetValue(id, out var i) ? i : Array.FindIndex(_model.EntryIds, e => IsoCatalog.Equivalent(e, id));
    }

    /// <inheritdoc/>
    public IReadOnlyList<PassageCandidates?> Rescore(IReadOnlyList<Passage> passages, IReadOnlyList<PassageCandidates?> candidates, ExemplarBank reviewed)
    {
        ArgumentNullException.ThrowIfNull(passages);
        ArgumentNullException.ThrowIfNull(candidates);
        ArgumentNullException.ThrowIfNull(reviewed);
        if (passages.Count != candidates.Count || passages.Count == 0
            || candidates.Any(c => c is null || c.Method != MappingMethods.Trained || c.Vectors is null || c.DocTypes?.Count != _model.DocTypes.Length))
        {
            return candidates;
        }

        var vectors = candidates.Select(c => (c!.Vectors!.MiniLM, c.Vectors.Arctic)).ToArray();
        var docTypes = candidates[0]!.DocTypes!.ToArray();
        var signals = passages.Select((p, i) => Signals(_model, p, passages.Count, vectors[i], docTypes)).ToArray();
        var (document, neighbours) = PassageContext.Compute(
            signals.Select(s => s.EntryProbabilities).ToArray(), signals.Select(s => s.EvidenceProbability).ToArray(), passages);
        var result = new PassageCandidates?[passages.Count];
        for (var i = 0; i < passages.Count; i++)
        {
            var stored = candidates[i]!;
            var passageSignals = signals[i] with { DocumentEntry = document, NeighbourEntry = neighbours[i] };
            var before = _features.Compute(passageSignals);
            var explain = new PairExplanation(_model.EntryIds.Length);
            var after = _features.Compute(passageSignals, explain, reviewed);
            var kept = stored.Entries.ToDictionary(e => e.ControlId, e => e.Probability, StringComparer.Ordinal);
            var notes = new Dictionary<string, string>(StringComparer.Ordinal);
            var scores = new List<(int Entry, double P)>(_model.EntryIds.Length);
            for (var e = 0; e < _model.EntryIds.Length; e++)
            {
                var id = _model.EntryIds[e];
                var was = kept.TryGetValue(id, out var k) ? k : _model.Probability(before[e]);
                if (before[e].AsSpan().SequenceEqual(after[e]))
                {
                    scores.Add((e, was));
                    continue;
                }

                var p = Math.Round(_model.Probability(after[e]), 4);
                scores.Add((e, p));
                if (Math.Abs(p - was) >= 0.005)
                {
                    var nearest = explain.Nearest[e] >= _model.Exemplars.Count
                        ? string.Create(CultureInfo.InvariantCulture, $"; nearest labelled passage {reviewed.Source[explain.Nearest[e] - _model.Exemplars.Count]}")
                        : string.Empty;
                    notes[id] = string.Create(CultureInfo.InvariantCulture, $"the model's probability {was:0.00} is {p:0.00} with the passages reviewed here among its labelled ones{nearest}");
                }
            }

            result[i] = stored with
            {
                Entries = [.. scores.Where(x => x.P >= PassageCandidates.Floor).OrderByDescending(x => x.P).ThenBy(x => x.Entry).Take(PassageCandidates.Kept).Select(x => new EntryScore(_model.EntryIds[x.Entry], x.P))],
                Notes = notes,
            };
        }

        return result;
    }

    /// <summary>Group of reviewed passages in the exemplar bank (never left out: they belong to no training document).</summary>
    private const int ReviewedGroup = -2;

    /// <summary>The level-one outputs for a passage (entry and evidence models) at inference.</summary>
    public static PassageSignals Signals(TrainedModel model, Passage passage, int count, (float[] MiniLM, float[] Arctic) v, double[] docTypes)
    {
        ArgumentNullException.ThrowIfNull(model);
        var x = PairFeatures.LinearInput(v.MiniLM, v.Arctic);
        return new PassageSignals
        {
            Passage = passage,
            PassageCount = count,
            MiniLM = v.MiniLM,
            Arctic = v.Arctic,
            DocTypeProbabilities = docTypes,
            EntryProbabilities = model.EntryModel.Probabilities(x),
            EvidenceProbability = model.EvidenceModel.Probabilities(x)[0],
            DocumentEntry = [],
            NeighbourEntry = [],
        };
    }

    private MappingSuggestion Suggest(double[] row, int entry, double p, PairExplanation explain)
    {
        var nearest = explain.Nearest[entry];
        var catalogEntry = _features.Entry(entry);
        var why = new List<string> { string.Create(CultureInfo.InvariantCulture, $"probability {p:0.00} that this mapping is right (trained model {_model.Version})") };
        if (nearest >= 0)
        {
            why.Add(string.Create(CultureInfo.InvariantCulture, $"nearest labelled training passage {_model.Exemplars.Source[nearest]}; best cosine to the entry's labelled passages {row[2]:0.00} (MiniLM) / {row[4]:0.00} (Arctic)"));
        }

        var keywords = _features.KeywordHits(explain, entry).Take(4).ToArray();
        if (keywords.Length > 0)
        {
            why.Add($"terms \"{string.Join("\", \"", keywords)}\"");
        }

        why.Add(string.Create(CultureInfo.InvariantCulture, $"entry model {row[10]:0.00}, evidence model {row[13]:0.00}"));
        if (row[17] > 0)
        {
            why.Add("under a heading typical of the entry");
        }

        return new MappingSuggestion(catalogEntry.Id, Math.Round(p, 4), MappingMethods.Trained, $"{catalogEntry.Id} \"{catalogEntry.Title}\": {string.Join("; ", why)}.")
        {
            Model = "aims-mapper@" + _model.Version,
        };
    }
}
