using Aims.Evidence.Core.Catalog;
using Aims.Evidence.Core.Classification;
using Aims.Evidence.Core.Lexical;
using Aims.Evidence.Core.Segmentation;
using Microsoft.Extensions.AI;

namespace Aims.Evidence.Core.Mapping;

public sealed record HybridMapperOptions
{
    /// <summary>Cosine at which the vector signal starts to count, and where it saturates.</summary>
    public double CosineFloor { get; init; } = 0.30;

    public double CosineCeiling { get; init; } = 0.70;

    public double VectorWeight { get; init; } = 0.65;

    public double LexicalWeight { get; init; } = 0.35;

    /// <summary>Raw BM25 at which the lexical signal reaches 1 - 1/e.</summary>
    public double LexicalScale { get; init; } = 14;

    /// <summary>Added when the entry's profile lists the document's type.</summary>
    public double DocTypeBonus { get; init; } = 0.08;

    /// <summary>Added when the passage's heading path matches one of the entry's typical headings.</summary>
    public double HeadingBonus { get; init; } = 0.08;

    /// <summary>Multiplier when the passage carries a negative cue pointing to another entry.</summary>
    public double NegativeCuePenalty { get; init; } = 0.85;

    /// <summary>The one threshold: a combined score from which a control is suggested.</summary>
    public double Threshold { get; init; } = 0.50;

    /// <summary>Suggestions further than this below the passage's best are dropped.</summary>
    public double RelativeMargin { get; init; } = 0.20;

    public int MaxSuggestions { get; init; } = 3;

    /// <summary>Passages whose best cosine to any profile is below this carry no governance content.</summary>
    public double MinBestCosine { get; init; } = 0.35;

    public int BatchSize { get; init; } = 64;
}

/// <summary>
/// The hand-weighted embedded mapper: each passage is compared with every entry's profile (example evidence
/// statements, title and summary) by cosine, and with its keywords by BM25; heading context, document-type priors and negative cues adjust; one calibrated threshold
/// decides. Passages the evidence gate rejects, and passages that resemble no profile, get nothing.
/// </summary>
public sealed class HybridControlMapper : ICandidateProposer
{
    private readonly IsoCatalog _catalog;
    private readonly HybridMapperOptions _options;
    private readonly IEmbeddingGenerator<string, Embedding<float>> _generator;
    private readonly Func<CancellationToken, Task<ProfileIndex>> _index;
    private readonly LexicalControlMapper _lexical;
    private readonly Dictionary<string, int> _lexicalIndex;
    private readonly Dictionary<string, string[]> _headings;
    private readonly Dictionary<string, (string Cue, string Prefer)[]> _cues;

    /// <param name="generator">The text embedding model (not owned: dispose it yourself).</param>
    /// <param name="options">Threshold, weights and bonuses (<c>Aims:Mapping</c>).</param>
    /// <param name="catalog">The catalog (default: the shipped one).</param>
    public HybridControlMapper(IEmbeddingGenerator<string, Embedding<float>> generator, HybridMapperOptions? options = null, IsoCatalog? catalog = null)
    {
        ArgumentNullException.ThrowIfNull(generator);
        _catalog = catalog ?? IsoCatalog.Default;
        _options = options ?? new HybridMapperOptions();
        _generator = generator;
        _index = ProfileIndex.Lazy(_catalog, _generator);
        _lexical = new LexicalControlMapper(_catalog);
        _lexicalIndex = _lexical.Entries.Select((e, i) => (e.Id, i)).ToDictionary(x => x.Id, x => x.i, StringComparer.Ordinal);
        _headings = _catalog.Mappable.ToDictionary(e => e.Id, e => e.Profile.Headings.Select(Tokenizer.Normalize).Where(h => h.Length > 0).ToArray(), StringComparer.Ordinal);
        _cues = _catalog.Mappable.ToDictionary(
            e => e.Id,
            e => e.Profile.NegativeCues.Select(c => (" " + Tokenizer.Normalize(c.Cue) + " ", c.PreferId)).Where(c => c.Item1.Trim().Length > 3).ToArray(),
            StringComparer.Ordinal);
        Name = "hybrid-" + (_generator.GetService<EmbeddingGeneratorMetadata>()?.DefaultModelId ?? "embedding");
    }

    public string Name { get; }

    /// <summary>Five: what the LLM mode offered before the trained scorer (right entry among them for 74% of labelled passages, see docs/QUALITY.md).</summary>
    public int RecommendedCandidates => 5;

    public async Task<IReadOnlyList<IReadOnlyList<MappingSuggestion>>> MapAsync(
        IReadOnlyList<Passage> passages,
        MappingContext context,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(passages);
        ArgumentNullException.ThrowIfNull(context);
        var result = new IReadOnlyList<MappingSuggestion>[passages.Count];
        Array.Fill(result, Array.Empty<MappingSuggestion>());
        if (!context.AiRelevant || context.DocType == DocumentTypes.Unrelated)
        {
            return result;
        }

        var candidates = Enumerable.Range(0, passages.Count).Where(i => EvidenceGate.Reject(passages[i]) is null).ToArray();
        if (candidates.Length == 0)
        {
            return result;
        }

        var index = await _index(cancellationToken).ConfigureAwait(false);
        var scored = new Dictionary<string, (double Score, string Why)>?[passages.Count];
        for (var start = 0; start < candidates.Length; start += _options.BatchSize)
        {
            var batch = candidates.Skip(start).Take(_options.BatchSize).ToArray();
            var texts = batch.Select(i => EmbeddingText(passages[i])).ToArray();
            var vectors = await _generator.GenerateAsync(texts, cancellationToken: cancellationToken).ConfigureAwait(false);
            for (var k = 0; k < batch.Length; k++)
            {
                var hits = index.Rank(vectors[k].Vector.Span, index.EntryCount);
                scored[batch[k]] = Score(passages[batch[k]], context, hits);
            }
        }

        for (var i = 0; i < passages.Count; i++)
        {
            if (scored[i] is { } map)
            {
                result[i] = Decide(map);
            }
        }

        return result;
    }

    private Dictionary<string, (double Score, string Why)>? Score(Passage passage, MappingContext context, IReadOnlyList<CandidateHit> hits)
    {
        if (hits.Count == 0 || hits[0].Score < _options.MinBestCosine)
        {
            return null;
        }

        var (lexScores, matched) = _lexical.RawScores(passage);
        var headingText = " " + Tokenizer.Normalize(string.Join(" ", passage.Headings)) + " ";
        var body = " " + Tokenizer.Normalize(passage.Text) + " ";
        var scored = new Dictionary<string, (double Score, string Why)>(StringComparer.Ordinal);
        var cueBoost = new Dictionary<string, double>(StringComparer.Ordinal);

        foreach (var hit in hits)
        {
            var entry = _catalog[hit.Id];
            var li = _lexicalIndex[hit.Id];
            var vector = Math.Clamp((hit.Score - _options.CosineFloor) / (_options.CosineCeiling - _options.CosineFloor), 0, 1);
            var lexical = 1 - Math.Exp(-lexScores[li] / _options.LexicalScale);
            var score = (_options.VectorWeight * vector) + (_options.LexicalWeight * lexical);
            var why = new List<string> { $"closest profile statement \"{Shorten(hit.MatchedText)}\" (cosine {hit.Score:0.00})" };
            var keywords = _lexical.KeywordHits(li, matched[li]).Take(4).ToArray();
            if (keywords.Length > 0)
            {
                why.Add($"terms \"{string.Join("\", \"", keywords)}\"");
            }

            if (entry.Profile.DocTypes.Contains(context.DocType, StringComparer.Ordinal))
            {
                score += _options.DocTypeBonus;
                why.Add($"usual in a {context.DocType}");
            }

            var heading = _headings[hit.Id].FirstOrDefault(h => headingText.Contains(" " + h + " ", StringComparison.Ordinal));
            if (heading is not null)
            {
                score += _options.HeadingBonus;
                why.Add($"under a \"{heading}\" heading");
            }

            foreach (var (cue, prefer) in _cues[hit.Id])
            {
                if (body.Contains(cue, StringComparison.Ordinal) || headingText.Contains(cue, StringComparison.Ordinal))
                {
                    score *= _options.NegativeCuePenalty;
                    cueBoost[prefer] = cueBoost.GetValueOrDefault(prefer) + 0.03;
                    break;
                }
            }

            scored[hit.Id] = (score, string.Join("; ", why));
        }

        foreach (var (id, boost) in cueBoost)
        {
            if (scored.TryGetValue(id, out var s))
            {
                scored[id] = (s.Score + Math.Min(boost, 0.06), s.Why + "; named by a cue that distinguishes it from a neighbour");
            }
        }

        return scored;
    }

    private MappingSuggestion[] Decide(Dictionary<string, (double Score, string Why)> scored)
    {
        var adjusted = scored.Select(kv => (Id: kv.Key, kv.Value.Score, kv.Value.Why)).OrderByDescending(x => x.Score).ToArray();
        if (adjusted.Length == 0)
        {
            return [];
        }

        var best = adjusted[0].Score;
        return adjusted
            .Where(x => x.Score >= _options.Threshold && x.Score >= best - _options.RelativeMargin)
            .Take(_options.MaxSuggestions)
            .Select(x => new MappingSuggestion(x.Id, Math.Round(Math.Clamp(x.Score, 0, 1), 4), MappingMethods.Embedded, $"{x.Id} \"{_catalog[x.Id].Title}\": {x.Why}."))
            .ToArray();
    }

    private static string Shorten(string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return string.Empty;
        }

        return text.Length <= 90 ? text : text[..87] + "...";
    }

    private static string EmbeddingText(Passage passage)
    {
        var heading = passage.Headings.Count > 0 ? passage.Headings[^1] + ": " : string.Empty;
        return heading + passage.Text;
    }

    // ---- LLM support (appended; the scoring above is unchanged) ----

    /// <summary>A proposer sharing this mapper's indexes (no second profile build) with different options.</summary>
    private HybridControlMapper(HybridControlMapper parent, HybridMapperOptions options)
    {
        _catalog = parent._catalog;
        _options = options;
        _generator = parent._generator;
        _index = parent._index;
        _lexical = parent._lexical;
        _lexicalIndex = parent._lexicalIndex;
        _headings = parent._headings;
        _cues = parent._cues;
        Name = parent.Name;
    }

    /// <summary>
    /// The <paramref name="k"/> best entries per passage by the combined score, WITHOUT the threshold, relative margin
    /// or suggestion cap (score-descending). Passages the evidence gate rejects, passages resembling no profile and
    /// passages of unrelated documents get an empty list, exactly as in <see cref="MapAsync"/>.
    /// </summary>
    public Task<IReadOnlyList<IReadOnlyList<MappingSuggestion>>> ProposeCandidatesAsync(
        IReadOnlyList<Passage> passages,
        MappingContext context,
        int k,
        CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(k);
        var proposer = new HybridControlMapper(this, _options with
        {
            Threshold = double.NegativeInfinity,
            RelativeMargin = double.PositiveInfinity,
            MaxSuggestions = k,
        });
        return proposer.MapAsync(passages, context, cancellationToken);
    }

    /// <summary>
    /// Applies this mapper's threshold, relative margin and cap to a passage's candidates from
    /// <see cref="ProposeCandidatesAsync"/>: the suggestions <see cref="MapAsync"/> would have made (k at least
    /// <see cref="HybridMapperOptions.MaxSuggestions"/>).
    /// </summary>
    public IReadOnlyList<MappingSuggestion> SelectSuggestions(IReadOnlyList<MappingSuggestion> candidates)
    {
        ArgumentNullException.ThrowIfNull(candidates);
        if (candidates.Count == 0)
        {
            return [];
        }

        var best = candidates[0].Score;
        return [.. candidates
            .Where(c => c.Score >= _options.Threshold && c.Score >= best - _options.RelativeMargin)
            .Take(_options.MaxSuggestions)];
    }
}
