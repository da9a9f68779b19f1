using System.Globalization;
using Aims.Evidence.Core.Catalog;
using Aims.Evidence.Core.Lexical;

namespace Aims.Evidence.Core.Mapping.Feedback;

/// <summary>
/// One reviewer decision on a passage: the entry was accepted (or added by hand) or rejected. Read from the store's
/// mappings; a manual mapping is an accepted decision.
/// </summary>
public sealed record ReviewDecision(string PassageId, string DocumentName, int Page, IReadOnlyList<string> Headings, string Text, string ControlId, bool Accepted)
{
    /// <summary>Added by hand (the mapper had not suggested it), rather than a decision on a suggestion.</summary>
    public bool Manual { get; init; }

    /// <summary>The reviewed passage's stored candidates (with its vectors, when the trained mapper kept them).</summary>
    public PassageCandidates? Candidates { get; init; }

    /// <summary>
    /// The mapping's polarity; for an accepted decision, whether the reviewer took the passage as support or as a
    /// finding (a rejected mapping's is never read). Null where no mapping stands behind the decision.
    /// </summary>
    public MappingPolarity? Polarity { get; init; }
}

/// <summary>A reviewed passage like another one, with what its reviewers decided: shown to an LLM judge as this deployment's convention.</summary>
public sealed record ReviewExample(string PassageId, IReadOnlyList<string> Headings, string Text, IReadOnlyList<string> Accepted, IReadOnlyList<string> Rejected, double Similarity);

/// <summary>
/// How strongly decisions move other passages. The defaults were chosen out of fold on the training corpus
/// (<c>aims train --review-fraction 0.2 --review-sweep</c>, docs/QUALITY.md): the per-entry term lowered passage F1 at
/// every weight tried, so it is off.
/// </summary>
public sealed record ReviewMemoryOptions
{
    public static ReviewMemoryOptions Default { get; } = new();

    /// <summary>Passages less similar than this to a reviewed one are not moved by it.</summary>
    public double MinSimilarity { get; init; } = 0.4;

    /// <summary>Log-odds a fully similar reviewed passage adds (accepted) or removes (rejected).</summary>
    public double NeighbourWeight { get; init; } = 3.0;

    /// <summary>Scale of the per-entry term, w · ln((accepted + 1) / (rejected + 1)), over decisions on suggestions (0: off).</summary>
    public double EntryWeight { get; init; }

    /// <summary>The largest total move, in log-odds, similar passages can make.</summary>
    public double MaxNeighbourMove { get; init; } = 4.0;

    /// <summary>Whether entries added by hand count as accepted in the per-entry term (else only decisions on suggestions do).</summary>
    public bool ManualInEntryTerm { get; init; }
}

/// <summary>
/// What the reviewers of one database have decided, as a signal for the mapper: per entry, how often it was accepted
/// and rejected (an entry this deployment keeps rejecting is lowered everywhere), and per reviewed passage, its
/// decisions (a similar passage is moved the same way, the more the more similar). Similarity is the cosine of TF-IDF
/// weighted word and word-pair vectors (stemmed, without stop words). A passage with the same text as a reviewed one
/// never gets a rejected entry again and always gets an accepted one, even in a new document version.
/// </summary>
public sealed class ReviewMemory
{
    /// <summary>Marks the part of a rationale written by the review memory (replaced, never stacked, on re-scoring).</summary>
    public const string RationaleMark = " Reviews in this database: ";

    private readonly Reviewed[] _reviewed;
    private readonly Dictionary<string, (int Accepted, int Rejected)> _entries;
    private readonly Dictionary<string, int> _byText;
    private readonly Dictionary<string, List<(int Passage, double Weight)>> _postings;
    private readonly Dictionary<string, double> _idf;
    private readonly ReviewMemoryOptions _options;

    private ReviewMemory(Reviewed[] reviewed, Dictionary<string, (int, int)> entries, Dictionary<string, double> idf, ReviewMemoryOptions options)
    {
        _options = options;
        _reviewed = reviewed;
        _entries = entries;
        _idf = idf;
        _byText = new(StringComparer.Ordinal);
        _postings = new(StringComparer.Ordinal);
        for (var i = 0; i < reviewed.Length; i++)
        {
            _byText.TryAdd(reviewed[i].TextKey, i);
            foreach (var (term, weight) in reviewed[i].Vector)
            {
                if (!_postings.TryGetValue(term, out var list))
                {
                    list = [];
                    _postings[term] = list;
                }

                list.Add((i, weight));
            }
        }
    }

    public static ReviewMemory Empty { get; } = Build([]);

    /// <summary>Reviewed passages.</summary>
    public int Passages => _reviewed.Length;

    public bool IsEmpty => _reviewed.Length == 0;

    public static ReviewMemory Build(IEnumerable<ReviewDecision> decisions, ReviewMemoryOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(decisions);
        options ??= ReviewMemoryOptions.Default;
        var byPassage = new Dictionary<string, (ReviewDecision First, HashSet<string> Accepted, HashSet<string> Rejected, HashSet<string> Manual, Dictionary<string, MappingPolarity> Polarities)>(StringComparer.Ordinal);
        var entries = new Dictionary<string, (int, int)>(StringComparer.Ordinal);
        foreach (var d in decisions)
        {
            if (!byPassage.TryGetValue(d.PassageId, out var p))
            {
                p = (d, new HashSet<string>(StringComparer.Ordinal), new HashSet<string>(StringComparer.Ordinal), new HashSet<string>(StringComparer.Ordinal), new Dictionary<string, MappingPolarity>(StringComparer.Ordinal));
                byPassage[d.PassageId] = p;
            }

            (d.Accepted ? p.Accepted : p.Rejected).Add(d.ControlId);
            if (d.Accepted && d.Polarity is { } polarity)
            {
                p.Polarities[d.ControlId] = polarity;
            }
            if (d.Manual && d.Accepted)
            {
                p.Manual.Add(d.ControlId);
            }
        }

        var terms = byPassage.Values.Select(p => Terms(p.First.Headings, p.First.Text)).ToArray();
        var df = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var t in terms)
        {
            foreach (var term in t.Keys)
            {
                df[term] = df.GetValueOrDefault(term) + 1;
            }
        }

        var n = terms.Length;
        var idf = df.ToDictionary(kv => kv.Key, kv => Math.Log((n + 1.0) / (kv.Value + 1.0)) + 1.0, StringComparer.Ordinal);
        var reviewed = byPassage.Values.Select((p, i) =>
        {
            // Accepted wins when the same entry was both accepted and rejected on one passage (e.g. rejected, then added by hand).
            p.Rejected.ExceptWith(p.Accepted);
            foreach (var e in p.Accepted.Where(e => options.ManualInEntryTerm || !p.Manual.Contains(e)))
            {
                var c = entries.GetValueOrDefault(e);
                entries[e] = (c.Item1 + 1, c.Item2);
            }

            foreach (var e in p.Rejected)
            {
                var c = entries.GetValueOrDefault(e);
                entries[e] = (c.Item1, c.Item2 + 1);
            }

            return new Reviewed(p.First, TextKey(p.First.Text), Weigh(terms[i], idf), p.Accepted, p.Rejected, p.Polarities);
        }).ToArray();
        return new ReviewMemory(reviewed, entries, idf, options);
    }

    /// <summary>
    /// The suggestions for one passage, its candidates moved by the reviews: per entry, log-odds + the entry term + the
    /// similar passages' votes; then the candidates' own rule (threshold, at most n). An entry unchanged by the reviews
    /// keeps its suggestion from <paramref name="original"/> when there is one.
    /// </summary>
    public IReadOnlyList<MappingSuggestion> Apply(IReadOnlyList<string> headings, string text, PassageCandidates candidates, IReadOnlyList<MappingSuggestion> original, IsoCatalog catalog)
    {
        ArgumentNullException.ThrowIfNull(candidates);
        ArgumentNullException.ThrowIfNull(original);
        ArgumentNullException.ThrowIfNull(catalog);
        var same = _byText.TryGetValue(TextKey(text), out var s) ? _reviewed[s] : null;
        var neighbours = Neighbours(headings, text);
        var scores = new Dictionary<string, EntryScore>(StringComparer.Ordinal);
        foreach (var c in candidates.Entries)
        {
            scores.TryAdd(c.ControlId, c);
        }

        // Entries accepted on similar passages are candidates even when the model did not keep them.
        foreach (var id in neighbours.SelectMany(nb => _reviewed[nb.Index].Accepted).Concat(same?.Accepted ?? []))
        {
            if (catalog.Contains(id))
            {
                scores.TryAdd(id, new EntryScore(id, PassageCandidates.Floor));
            }
        }

        var moved = new List<(EntryScore Score, string? Why)>(scores.Count);
        foreach (var c in scores.Values)
        {
            if (same is not null && same.Rejected.Contains(c.ControlId))
            {
                continue; // rejected for a passage with this very text: never suggested again
            }

            var (p, why) = Move(c, neighbours, same);
            if (candidates.Notes?.GetValueOrDefault(c.ControlId) is { } note)
            {
                why = why is null ? note : note + "; " + why;
            }

            moved.Add((new EntryScore(c.ControlId, p), why));
        }

        var byId = moved.ToDictionary(m => m.Score.ControlId, m => m.Why, StringComparer.Ordinal);
        var originals = original.ToDictionary(o => o.ControlId, StringComparer.Ordinal);
        var findingPolarity = original.Count > 0 ? original[0].Polarity : candidates.IsFinding ? MappingPolarity.Finding : MappingPolarity.Supports;

        // What the polarity model said of the passage (stable when this is applied to its own output again).
        var modelPolarity = candidates.Finding is null ? findingPolarity : candidates.IsFinding ? MappingPolarity.Finding : MappingPolarity.Supports;
        return [.. candidates.Select(moved.Select(m => m.Score)).Select(e =>
        {
            var why = byId[e.ControlId];

            // A reviewer's reading of a passage with this very text (support or finding) holds for this one too.
            var decided = same?.Polarities.GetValueOrDefault(e.ControlId);
            if (decided is { } d && d != modelPolarity)
            {
                var note = d == MappingPolarity.Finding ? "accepted as a finding for a passage with the same text" : "accepted as support, not a finding, for a passage with the same text";
                why = why is null ? note : why + "; " + note;
            }

            if (why is null && originals.TryGetValue(e.ControlId, out var kept) && !kept.Rationale.Contains(RationaleMark, StringComparison.Ordinal))
            {
                return kept;
            }

            var baseRationale = originals.TryGetValue(e.ControlId, out var o) ? StripReviews(decided == MappingPolarity.Supports ? StripFinding(o.Rationale) : o.Rationale)
                : catalog.TryGet(e.ControlId, out var entry) ? $"{entry!.Id} \"{entry.Title}\": scored {Probability(candidates, e.ControlId)} by the model." : e.ControlId + ".";
            var finding = decided is null && findingPolarity == MappingPolarity.Finding && o is null
                ? PolarityMapper.FindingReason(candidates.Finding ?? 0)
                : string.Empty;
            return new MappingSuggestion(e.ControlId, Math.Round(e.Probability, 4), o?.Method ?? candidates.Method, baseRationale + finding + (why is null ? string.Empty : RationaleMark + why + "."))
            {
                Model = o?.Model ?? candidates.Model,
                PromptVersion = o?.PromptVersion,
                Polarity = decided ?? o?.Polarity ?? findingPolarity,
            };
        })];
    }

    /// <summary>
    /// The reviewed passages most like this one (the one with the same text first, then by similarity, at least
    /// <see cref="ReviewMemoryOptions.MinSimilarity"/>), at most <paramref name="max"/>, each with its accepted (or
    /// hand-added) and rejected entries.
    /// </summary>
    public IReadOnlyList<ReviewExample> Examples(IReadOnlyList<string> headings, string text, int max = 2)
    {
        ArgumentNullException.ThrowIfNull(headings);
        ArgumentNullException.ThrowIfNull(text);
        var picked = new List<(int Index, double Similarity)>();
        if (_byText.TryGetValue(TextKey(text), out var same))
        {
            picked.Add((same, 1.0));
        }

        picked.AddRange(Neighbours(headings, text).Where(n => n.Index != same || picked.Count == 0).OrderByDescending(n => n.Similarity).ThenBy(n => n.Index));
        return [.. picked.DistinctBy(p => p.Index).Take(Math.Max(0, max)).Select(p =>
        {
            var r = _reviewed[p.Index];
            return new ReviewExample(r.Decision.PassageId, r.Decision.Headings, r.Decision.Text, [.. r.Accepted.Order(StringComparer.Ordinal)], [.. r.Rejected.Order(StringComparer.Ordinal)], Math.Round(p.Similarity, 4));
        })];
    }

    /// <summary>A rationale without the review memory's part.</summary>
    public static string StripReviews(string rationale)
    {
        ArgumentNullException.ThrowIfNull(rationale);
        var at = rationale.IndexOf(RationaleMark, StringComparison.Ordinal);
        return at < 0 ? rationale : rationale[..at];
    }

    /// <summary>The rationale without the polarity model's closing finding sentence (<see cref="PolarityMapper.FindingReason"/>).</summary>
    private static string StripFinding(string rationale)
    {
        var at = rationale.IndexOf(" A finding: ", StringComparison.Ordinal);
        return at < 0 ? rationale : rationale[..at];
    }

    private static string Probability(PassageCandidates candidates, string id) =>
        candidates.Entries.FirstOrDefault(c => c.ControlId == id) is { } c ? c.Probability.ToString("0.00", CultureInfo.InvariantCulture) : "below " + PassageCandidates.Floor.ToString("0.00", CultureInfo.InvariantCulture);

    private (double P, string? Why) Move(EntryScore c, IReadOnlyList<(int Index, double Similarity)> neighbours, Reviewed? same)
    {
        if (same is not null && same.Accepted.Contains(c.ControlId))
        {
            return (Math.Max(c.Probability, 0.95), "accepted for a passage with the same text");
        }

        var z = Logit(c.Probability);
        var move = 0.0;
        string? nearest = null;
        int accepted = 0, rejected = 0;
        foreach (var (index, similarity) in neighbours)
        {
            var r = _reviewed[index];
            var vote = r.Accepted.Contains(c.ControlId) ? 1 : r.Rejected.Contains(c.ControlId) ? -1 : 0;
            if (vote == 0)
            {
                continue;
            }

            accepted += vote > 0 ? 1 : 0;
            rejected += vote < 0 ? 1 : 0;
            move += vote * _options.NeighbourWeight * (similarity - _options.MinSimilarity) / (1 - _options.MinSimilarity);
            nearest ??= string.Create(CultureInfo.InvariantCulture, $"{(vote > 0 ? "accepted" : "rejected")} for \"{r.Decision.DocumentName}\", p. {r.Decision.Page} (similarity {similarity:0.00})");
        }

        move = Math.Clamp(move, -_options.MaxNeighbourMove, _options.MaxNeighbourMove);
        var (a, j) = _entries.GetValueOrDefault(c.ControlId);
        var entryMove = a + j == 0 ? 0 : _options.EntryWeight * Math.Log((a + 1.0) / (j + 1.0));
        if (move == 0 && entryMove == 0)
        {
            return (c.Probability, null);
        }

        var p = Sigmoid(z + move + entryMove);
        var parts = new List<string>
        {
            string.Create(CultureInfo.InvariantCulture, $"model probability {c.Probability:0.00} moved to {p:0.00}"),
        };
        if (a + j > 0)
        {
            parts.Add(string.Create(CultureInfo.InvariantCulture, $"{c.ControlId} accepted {a}, rejected {j} times here"));
        }

        if (nearest is not null)
        {
            parts.Add(string.Create(CultureInfo.InvariantCulture, $"similar passages: {accepted} accepted, {rejected} rejected; nearest {nearest}"));
        }

        return (p, string.Join("; ", parts));
    }

    /// <summary>Reviewed passages at least <see cref="ReviewMemoryOptions.MinSimilarity"/> similar, most similar first.</summary>
    private List<(int Index, double Similarity)> Neighbours(IReadOnlyList<string> headings, string text)
    {
        var result = new List<(int, double)>();
        if (_reviewed.Length == 0)
        {
            return result;
        }

        var vector = Weigh(Terms(headings, text), _idf);
        var dot = new Dictionary<int, double>();
        foreach (var (term, weight) in vector)
        {
            if (_postings.TryGetValue(term, out var list))
            {
                foreach (var (passage, w) in list)
                {
                    dot[passage] = dot.GetValueOrDefault(passage) + (weight * w);
                }
            }
        }

        foreach (var (passage, similarity) in dot)
        {
            if (similarity >= _options.MinSimilarity)
            {
                result.Add((passage, Math.Min(1, similarity)));
            }
        }

        result.Sort((x, y) => y.Item2.CompareTo(x.Item2));
        return result;
    }

    /// <summary>Word and word-pair counts of the last heading and the text.</summary>
    private static Dictionary<string, int> Terms(IReadOnlyList<string> headings, string text)
    {
        var tokens = Tokenizer.Tokens(headings.Count > 0 ? headings[^1] + " " + text : text);
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < tokens.Count; i++)
        {
            Add(counts, tokens[i]);
            if (i > 0)
            {
                Add(counts, tokens[i - 1] + " " + tokens[i]);
            }
        }

        return counts;

        static void Add(Dictionary<string, int> counts, string term) => counts[term] = counts.GetValueOrDefault(term) + 1;
    }

    /// <summary>Sublinear TF times IDF (unseen terms get the largest IDF), L2-normalised.</summary>
    private static (string Term, double Weight)[] Weigh(Dictionary<string, int> counts, Dictionary<string, double> idf)
    {
        var unseen = idf.Count == 0 ? 1.0 : idf.Values.Max();
        var weights = counts.Select(kv => (kv.Key, (1 + Math.Log(kv.Value)) * idf.GetValueOrDefault(kv.Key, unseen))).ToArray();
        var norm = Math.Sqrt(weights.Sum(w => w.Item2 * w.Item2));
        return norm == 0 ? [] : [.. weights.Select(w => (w.Key, w.Item2 / norm))];
    }

    private static string TextKey(string text) => Tokenizer.Normalize(text);

    private static double Logit(double p)
    {
        var q = Math.Clamp(p, 1e-4, 1 - 1e-4);
        return Math.Log(q / (1 - q));
    }

    private static double Sigmoid(double z) => 1 / (1 + Math.Exp(-z));

    private sealed record Reviewed(ReviewDecision Decision, string TextKey, (string Term, double Weight)[] Vector, HashSet<string> Accepted, HashSet<string> Rejected, Dictionary<string, MappingPolarity> Polarities);
}
