using Aims.Evidence.Core.Catalog;
using Aims.Evidence.Core.Classification;
using Aims.Evidence.Core.Segmentation;
using Aims.Evidence.Core.Lexical;

namespace Aims.Evidence.Core.Mapping;

public sealed record LexicalMapperOptions
{
    /// <summary>Raw BM25 score at which the calibrated score reaches 1 - 1/e.</summary>
    public double Scale { get; init; } = 14;

    /// <summary>Calibrated score from which a control is suggested.</summary>
    public double Threshold { get; init; } = 0.6;

    public int MaxSuggestions { get; init; } = 3;

    /// <summary>Multiplier for entries whose profile lists the document's type.</summary>
    public double DocTypePrior { get; init; } = 1.2;
}

/// <summary>
/// The first real mapper: BM25 of the passage (and its headings) against each entry's search profile
/// (title, keywords, example statements, typical headings), calibrated to [0,1] and thresholded.
/// </summary>
public sealed class LexicalControlMapper : IControlMapper
{
    private readonly IsoCatalog _catalog;
    private readonly LexicalMapperOptions _options;
    private readonly Bm25Index _index = new();
    private readonly List<CatalogEntry> _entries = [];
    private readonly List<HashSet<string>> _keywordTokens = [];

    public LexicalControlMapper(IsoCatalog catalog, LexicalMapperOptions? options = null)
    {
        _catalog = catalog ?? throw new ArgumentNullException(nameof(catalog));
        _options = options ?? new LexicalMapperOptions();
        foreach (var entry in catalog.Mappable)
        {
            _entries.Add(entry);
            _index.Add(ProfileTokens(entry));
            _keywordTokens.Add(entry.Profile.Keywords.SelectMany(k => Tokenizer.Tokens(k)).ToHashSet(StringComparer.Ordinal));
        }
    }

    public string Name => "lexical-bm25";

    public Task<IReadOnlyList<IReadOnlyList<MappingSuggestion>>> MapAsync(
        IReadOnlyList<Passage> passages,
        MappingContext context,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(passages);
        ArgumentNullException.ThrowIfNull(context);
        var result = new IReadOnlyList<MappingSuggestion>[passages.Count];
        for (var i = 0; i < passages.Count; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            result[i] = MapOne(passages[i], context);
        }

        return Task.FromResult<IReadOnlyList<IReadOnlyList<MappingSuggestion>>>(result);
    }

    private MappingSuggestion[] MapOne(Passage passage, MappingContext context)
    {
        if (!context.AiRelevant || context.DocType == DocumentTypes.Unrelated || EvidenceGate.Reject(passage) is not null)
        {
            return [];
        }

        var (scores, matched) = RawScores(passage);
        var suggestions = new List<MappingSuggestion>();
        for (var i = 0; i < scores.Length; i++)
        {
            var raw = scores[i];
            if (raw <= 0)
            {
                continue;
            }

            if (_entries[i].Profile.DocTypes.Contains(context.DocType, StringComparer.Ordinal))
            {
                raw *= _options.DocTypePrior;
            }

            var score = 1 - Math.Exp(-raw / _options.Scale);
            if (score < _options.Threshold)
            {
                continue;
            }

            var keywordHits = matched[i].Where(_keywordTokens[i].Contains).Take(6).ToArray();
            var terms = keywordHits.Length > 0 ? keywordHits : matched[i].Take(6).ToArray();
            suggestions.Add(new MappingSuggestion(
                _entries[i].Id,
                Math.Round(score, 4),
                MappingMethods.Lexical,
                $"Shares the terms \"{string.Join("\", \"", terms)}\" with the {_entries[i].Id} \"{_entries[i].Title}\" profile."));
        }

        return suggestions.OrderByDescending(s => s.Score).Take(_options.MaxSuggestions).ToArray();
    }

    /// <summary>Entries in the order of <see cref="RawScores"/>.</summary>
    public IReadOnlyList<CatalogEntry> Entries => _entries;

    /// <summary>BM25 of the passage and its headings against every entry profile, with the matched terms.</summary>
    public (double[] Scores, List<string>[] Matched) RawScores(Passage passage)
    {
        ArgumentNullException.ThrowIfNull(passage);
        var tokens = Tokenizer.Tokens(passage.Text);
        tokens.AddRange(passage.Headings.SelectMany(h => Tokenizer.Tokens(h)));
        return _index.Score(tokens);
    }

    /// <summary>Profile keywords of entry <paramref name="index"/> found among <paramref name="matched"/>.</summary>
    public IEnumerable<string> KeywordHits(int index, IEnumerable<string> matched) => matched.Where(_keywordTokens[index].Contains);

    private static IEnumerable<string> ProfileTokens(CatalogEntry entry)
    {
        var title = Tokenizer.Tokens(entry.Title);
        return title.Concat(title)
            .Concat(entry.Profile.Keywords.SelectMany(k => Tokenizer.Tokens(k)))
            .Concat(entry.Profile.Keywords.SelectMany(k => Tokenizer.Tokens(k)))
            .Concat(entry.Profile.Examples.SelectMany(e => Tokenizer.Tokens(e)))
            .Concat(entry.Profile.Headings.SelectMany(h => Tokenizer.Tokens(h)))
            .Concat(Tokenizer.Tokens(entry.Summary));
    }
}
