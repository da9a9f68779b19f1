namespace Aims.Evidence.Core.Lexical;

/// <summary>An in-memory Okapi BM25 index over a small set of documents (the control profiles).</summary>
public sealed class Bm25Index
{
    private readonly List<Dictionary<string, int>> _termFreqs = [];
    private readonly List<int> _lengths = [];
    private readonly Dictionary<string, int> _docFreq = new(StringComparer.Ordinal);
    private readonly double _k1;
    private readonly double _b;
    private double _avgLength;

    public Bm25Index(double k1 = 1.2, double b = 0.75)
    {
        _k1 = k1;
        _b = b;
    }

    public int Count => _lengths.Count;

    public int Add(IEnumerable<string> tokens)
    {
        var tf = new Dictionary<string, int>(StringComparer.Ordinal);
        var length = 0;
        foreach (var t in tokens)
        {
            tf[t] = tf.GetValueOrDefault(t) + 1;
            length++;
        }

        foreach (var term in tf.Keys)
        {
            _docFreq[term] = _docFreq.GetValueOrDefault(term) + 1;
        }

        _termFreqs.Add(tf);
        _lengths.Add(length);
        _avgLength = _lengths.Average();
        return _lengths.Count - 1;
    }

    public double Idf(string term)
    {
        var n = _docFreq.GetValueOrDefault(term);
        return Math.Log(1 + ((Count - n + 0.5) / (n + 0.5)));
    }

    /// <summary>BM25 scores of every document for the query, plus which query terms matched each.</summary>
    public (double[] Scores, List<string>[] Matched) Score(IReadOnlyCollection<string> queryTokens)
    {
        var scores = new double[Count];
        var matched = new List<string>[Count];
        for (var i = 0; i < Count; i++)
        {
            matched[i] = [];
        }

        foreach (var term in queryTokens.Distinct(StringComparer.Ordinal))
        {
            if (!_docFreq.ContainsKey(term))
            {
                continue;
            }

            var idf = Idf(term);
            for (var i = 0; i < Count; i++)
            {
                if (!_termFreqs[i].TryGetValue(term, out var f))
                {
                    continue;
                }

                var norm = f * (_k1 + 1) / (f + (_k1 * (1 - _b + (_b * _lengths[i] / _avgLength))));
                scores[i] += idf * norm;
                matched[i].Add(term);
            }
        }

        return (scores, matched);
    }
}
