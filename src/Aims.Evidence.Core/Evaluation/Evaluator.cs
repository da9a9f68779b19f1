using Aims.Evidence.Core.Catalog;
using Aims.Evidence.Core.Lexical;

namespace Aims.Evidence.Core.Evaluation;

/// <summary>One passage the system produced: its text and the ids of its suggested mappings, ranked by score (best first).</summary>
public sealed record ProducedPassage(string Text, IReadOnlyList<string> Suggested)
{
    /// <summary>The candidates the mapper would offer an LLM judge for this passage, best first (empty when not measured).</summary>
    public IReadOnlyList<string> Candidates { get; init; } = [];

    /// <summary>What the mapper kept of its scoring (entries with probabilities and its suggestion rule), when it kept any: lets the evaluation ask what another threshold would have suggested.</summary>
    public Mapping.Feedback.PassageCandidates? Scores { get; init; }
}

/// <summary>Share of gold evidence passages whose primary control is among the first <c>K</c> candidates offered.</summary>
public sealed record CandidateRecall(int K, int Passages, int Hits)
{
    public double Recall => Passages == 0 ? 0 : Hits / (double)Passages;
}

/// <summary>What the system produced for one document: its predicted type and its passages in document order.</summary>
public sealed record ProducedDocument(string? DocType, IReadOnlyList<ProducedPassage> Passages)
{
    /// <summary>
    /// The same document as if the mapper had suggested at <paramref name="threshold"/>: each passage that kept its
    /// scores suggests its entries at or above it (best first, at most the mapper's count); other passages are unchanged.
    /// </summary>
    public ProducedDocument AtThreshold(double threshold) => this with
    {
        Passages = [.. Passages.Select(p => p.Scores is { } s ? p with { Suggested = [.. (s with { Threshold = threshold }).Select(s.Entries).Select(e => e.ControlId)] } : p)],
    };
}

/// <summary>The nine metrics of the evaluation README, with the counts behind them.</summary>
public sealed record EvaluationMetrics(
    double PassageRecallAt3,
    double PassagePrecisionAt3,
    double PassageF1,
    double NullFpr,
    double UnrelatedPassageRate,
    double DocMustRecall,
    double DocPrecision,
    double DocTypeAccuracy,
    int UnmatchedQuotes,
    EvaluationCounts Counts)
{
    /// <summary>The metrics under the README's names, in README order.</summary>
    public IReadOnlyList<KeyValuePair<string, double>> Named =>
    [
        new("passage_recall@3", PassageRecallAt3),
        new("passage_precision@3", PassagePrecisionAt3),
        new("passage_f1", PassageF1),
        new("null_fpr", NullFpr),
        new("unrelated_passage_rate", UnrelatedPassageRate),
        new("doc_must_recall", DocMustRecall),
        new("doc_precision", DocPrecision),
        new("doc_type_accuracy", DocTypeAccuracy),
        new("unmatched_quotes", UnmatchedQuotes),
    ];
}

/// <summary>Numerators and denominators of the metrics (a ratio with a zero denominator is reported as 0).</summary>
public sealed record EvaluationCounts(
    int ScoredPassages,
    int ScoredHits,
    int Top3Predictions,
    int Top3Correct,
    int NullPassages,
    int NullFalsePositives,
    int UnrelatedPassages,
    int UnrelatedSuggested,
    int MustTotal,
    int MustFound,
    int DocSuggested,
    int DocSuggestedCorrect,
    int Documents,
    int DocTypeCorrect,
    int Quotes);

/// <summary>Per-document breakdown.</summary>
public sealed record DocumentEvaluation(
    string File,
    bool Produced,
    bool AiRelevant,
    string GoldDocType,
    string? PredictedDocType,
    bool DocTypeCorrect,
    int ProducedPassages,
    int ScoredPassages,
    int Hits,
    double Recall,
    int Top3Predictions,
    int Top3Correct,
    double Precision,
    int NullPassages,
    int NullFalsePositives,
    int MustTotal,
    int MustFound,
    double MustRecall,
    int DocSuggested,
    int DocSuggestedCorrect,
    double DocPrecision,
    int UnmatchedQuotes);

/// <summary>Per-control breakdown: gold passages whose primary controls include the id (hit = an equivalent id in top-3), and top-3 predictions of the id (correct = in controls ∪ also).</summary>
public sealed record ControlEvaluation(string ControlId, int GoldPassages, int GoldHits, int Predictions, int CorrectPredictions);

/// <summary>A top-3 prediction outside controls ∪ also, paired with each primary gold control of its passage.</summary>
public sealed record Confusion(string GoldControl, string PredictedControl, int Count);

/// <summary>How one gold quote was matched: index of the produced passage (or null) and how.</summary>
public sealed record QuoteMatch(int? PassageIndex, QuoteMatchKind Kind, int CommonLength);

public enum QuoteMatchKind
{
    Unmatched,
    Contained,
    LongestCommonSubstring,
}

public sealed record EvaluationReport(
    EvaluationMetrics Metrics,
    IReadOnlyList<DocumentEvaluation> Documents,
    IReadOnlyList<ControlEvaluation> Controls,
    IReadOnlyList<Confusion> Confusions);

/// <summary>
/// Computes the mapping-quality metrics exactly as the evaluation README defines them: quotes are matched to produced
/// passages by containment of the normalised quote, else by the longest common substring covering at least half of it;
/// predicted and gold ids are compared with <see cref="IsoCatalog.Equivalent"/>; top-3 = the first three suggested ids.
/// </summary>
public static class Evaluator
{
    public const int TopK = 3;

    /// <summary>
    /// candidate_recall@k: over gold passages with non-empty controls in AI-relevant documents, the share whose matched
    /// passage has a gold control (or an equivalent id) among its first <paramref name="k"/> candidates.
    /// </summary>
    public static CandidateRecall CandidateRecallAt(IReadOnlyList<GoldDocument> gold, IReadOnlyDictionary<string, ProducedDocument> produced, int k)
    {
        ArgumentNullException.ThrowIfNull(gold);
        ArgumentNullException.ThrowIfNull(produced);
        int total = 0, hits = 0;
        foreach (var doc in gold.Where(d => d.AiRelevant))
        {
            var passages = produced.TryGetValue(doc.File, out var result) ? result.Passages : [];
            var normalized = passages.Select(p => Tokenizer.Normalize(p.Text)).ToArray();
            foreach (var gp in doc.Passages.Where(p => !p.IsNull))
            {
                total++;
                var match = MatchQuote(gp.Quote, normalized);
                if (match.PassageIndex is { } i && passages[i].Candidates.Take(k).Any(c => gp.Controls.Any(g => IsoCatalog.Equivalent(c, g))))
                {
                    hits++;
                }
            }
        }

        return new CandidateRecall(k, total, hits);
    }

    /// <param name="gold">The gold documents.</param>
    /// <param name="produced">Per document file name, what the system produced. A gold document absent here has no passages and no type.</param>
    /// <param name="maxConfusions">How many of the most frequent confusions to return.</param>
    public static EvaluationReport Evaluate(IReadOnlyList<GoldDocument> gold, IReadOnlyDictionary<string, ProducedDocument> produced, int maxConfusions = 20)
    {
        ArgumentNullException.ThrowIfNull(gold);
        ArgumentNullException.ThrowIfNull(produced);

        int scored = 0, hits = 0, predictions = 0, correct = 0, nulls = 0, nullFp = 0, unrelated = 0, unrelatedSuggested = 0;
        int mustTotal = 0, mustFound = 0, docSuggested = 0, docCorrect = 0, typeCorrect = 0, unmatched = 0, quotes = 0;
        var documents = new List<DocumentEvaluation>(gold.Count);
        var controls = new SortedDictionary<string, int[]>(StringComparer.Ordinal);
        var confusions = new Dictionary<(string Gold, string Predicted), int>();

        foreach (var doc in gold)
        {
            var isProduced = produced.TryGetValue(doc.File, out var result);
            var passages = result?.Passages ?? [];
            var normalized = passages.Select(p => Tokenizer.Normalize(p.Text)).ToArray();
            int dScored = 0, dHits = 0, dPred = 0, dCorrect = 0, dNulls = 0, dNullFp = 0, dUnmatched = 0;

            foreach (var gp in doc.Passages)
            {
                quotes++;
                var match = MatchQuote(gp.Quote, normalized);
                if (match.PassageIndex is null)
                {
                    dUnmatched++;
                }

                if (!doc.AiRelevant)
                {
                    continue;
                }

                var suggested = match.PassageIndex is { } i ? passages[i].Suggested : [];
                if (gp.IsNull)
                {
                    dNulls++;
                    if (suggested.Count > 0)
                    {
                        dNullFp++;
                    }

                    continue;
                }

                var top = suggested.Take(TopK).ToArray();
                dScored++;
                var hit = top.Any(p => gp.Controls.Any(g => IsoCatalog.Equivalent(p, g)));
                if (hit)
                {
                    dHits++;
                }

                foreach (var g in gp.Controls.Distinct(StringComparer.Ordinal))
                {
                    var c = Counter(controls, g);
                    c[0]++;
                    if (top.Any(p => IsoCatalog.Equivalent(p, g)))
                    {
                        c[1]++;
                    }
                }

                foreach (var p in top)
                {
                    dPred++;
                    var ok = gp.Controls.Concat(gp.Also).Any(g => IsoCatalog.Equivalent(p, g));
                    var c = Counter(controls, p);
                    c[2]++;
                    if (ok)
                    {
                        dCorrect++;
                        c[3]++;
                    }
                    else
                    {
                        foreach (var g in gp.Controls.Distinct(StringComparer.Ordinal))
                        {
                            confusions[(g, p)] = confusions.GetValueOrDefault((g, p)) + 1;
                        }
                    }
                }
            }

            // Document level: D = every id suggested for any passage of the document.
            var d = passages.SelectMany(p => p.Suggested).Distinct(StringComparer.Ordinal).ToArray();
            var allowed = doc.MustControls.Concat(doc.MayControls).ToArray();
            var dMustFound = doc.MustControls.Distinct(StringComparer.Ordinal).Count(m => d.Any(x => IsoCatalog.Equivalent(x, m)));
            var dMustTotal = doc.MustControls.Distinct(StringComparer.Ordinal).Count();
            var dDocCorrect = d.Count(x => allowed.Any(a => IsoCatalog.Equivalent(x, a)));
            var typeOk = result?.DocType is { } t && (string.Equals(t, doc.DocType, StringComparison.Ordinal) || doc.DocTypeAlt.Contains(t, StringComparer.Ordinal));

            if (doc.AiRelevant)
            {
                mustTotal += dMustTotal;
                mustFound += dMustFound;
                docSuggested += d.Length;
                docCorrect += dDocCorrect;
            }
            else
            {
                unrelated += passages.Count;
                unrelatedSuggested += passages.Count(p => p.Suggested.Count > 0);
            }

            scored += dScored;
            hits += dHits;
            predictions += dPred;
            correct += dCorrect;
            nulls += dNulls;
            nullFp += dNullFp;
            unmatched += dUnmatched;
            typeCorrect += typeOk ? 1 : 0;

            documents.Add(new DocumentEvaluation(
                doc.File, isProduced, doc.AiRelevant, doc.DocType, result?.DocType, typeOk, passages.Count,
                dScored, dHits, Ratio(dHits, dScored), dPred, dCorrect, Ratio(dCorrect, dPred), dNulls, dNullFp,
                dMustTotal, dMustFound, Ratio(dMustFound, dMustTotal), d.Length, dDocCorrect, Ratio(dDocCorrect, d.Length), dUnmatched));
        }

        var recall = Ratio(hits, scored);
        var precision = Ratio(correct, predictions);
        var metrics = new EvaluationMetrics(
            recall,
            precision,
            recall + precision == 0 ? 0 : 2 * recall * precision / (recall + precision),
            Ratio(nullFp, nulls),
            Ratio(unrelatedSuggested, unrelated),
            Ratio(mustFound, mustTotal),
            Ratio(docCorrect, docSuggested),
            Ratio(typeCorrect, gold.Count),
            unmatched,
            new EvaluationCounts(scored, hits, predictions, correct, nulls, nullFp, unrelated, unrelatedSuggested, mustTotal, mustFound,
                docSuggested, docCorrect, gold.Count, typeCorrect, quotes));

        return new EvaluationReport(
            metrics,
            documents,
            controls.Select(kv => new ControlEvaluation(kv.Key, kv.Value[0], kv.Value[1], kv.Value[2], kv.Value[3])).ToArray(),
            confusions.OrderByDescending(kv => kv.Value).ThenBy(kv => kv.Key.Gold, StringComparer.Ordinal).ThenBy(kv => kv.Key.Predicted, StringComparer.Ordinal)
                .Take(Math.Max(0, maxConfusions))
                .Select(kv => new Confusion(kv.Key.Gold, kv.Key.Predicted, kv.Value)).ToArray());

        static int[] Counter(SortedDictionary<string, int[]> map, string id)
        {
            if (!map.TryGetValue(id, out var c))
            {
                c = new int[4];
                map[id] = c;
            }

            return c;
        }
    }

    /// <summary>
    /// Matches a gold quote to one of a document's passages, given their texts already normalised with <see cref="Tokenizer.Normalize"/>:
    /// the first passage containing the normalised quote; else the passage with the longest common substring (first on ties)
    /// if it covers at least half of the normalised quote; else unmatched.
    /// </summary>
    public static QuoteMatch MatchQuote(string quote, IReadOnlyList<string> normalizedPassages)
    {
        ArgumentNullException.ThrowIfNull(quote);
        ArgumentNullException.ThrowIfNull(normalizedPassages);
        var q = Tokenizer.Normalize(quote);
        if (q.Length == 0)
        {
            return new QuoteMatch(null, QuoteMatchKind.Unmatched, 0);
        }

        for (var i = 0; i < normalizedPassages.Count; i++)
        {
            if (normalizedPassages[i].Contains(q, StringComparison.Ordinal))
            {
                return new QuoteMatch(i, QuoteMatchKind.Contained, q.Length);
            }
        }

        int best = 0, bestIndex = -1;
        for (var i = 0; i < normalizedPassages.Count; i++)
        {
            var lcs = LongestCommonSubstring(q, normalizedPassages[i]);
            if (lcs > best)
            {
                best = lcs;
                bestIndex = i;
            }
        }

        return bestIndex >= 0 && 2 * best >= q.Length
            ? new QuoteMatch(bestIndex, QuoteMatchKind.LongestCommonSubstring, best)
            : new QuoteMatch(null, QuoteMatchKind.Unmatched, best);
    }

    /// <summary>Length of the longest common substring (contiguous, by character); O(|a|·|b|) time, O(|b|) memory.</summary>
    public static int LongestCommonSubstring(string a, string b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        if (a.Length == 0 || b.Length == 0)
        {
            return 0;
        }

        var previous = new int[b.Length + 1];
        var current = new int[b.Length + 1];
        var best = 0;
        for (var i = 1; i <= a.Length; i++)
        {
            var ca = a[i - 1];
            for (var j = 1; j <= b.Length; j++)
            {
                if (ca == b[j - 1])
                {
                    var v = previous[j - 1] + 1;
                    current[j] = v;
                    if (v > best)
                    {
                        best = v;
                    }
                }
                else
                {
                    current[j] = 0;
                }
            }

            (previous, current) = (current, previous);
        }

        return best;
    }

    private static double Ratio(int numerator, int denominator) => denominator == 0 ? 0 : (double)numerator / denominator;
}
