using Aims.Evidence.Core.Catalog;
using Aims.Evidence.Core.Extraction;
using Aims.Evidence.Core.Lexical;
using Aims.Evidence.Core.Segmentation;

namespace Aims.Evidence.Core.Mapping.Trained;

/// <summary>What is known about one passage before it is scored against the entries.</summary>
public sealed record PassageSignals
{
    public required Passage Passage { get; init; }

    public required int PassageCount { get; init; }

    public required float[] MiniLM { get; init; }

    public required float[] Arctic { get; init; }

    /// <summary>P(document type) of the passage's document, in <see cref="TrainedModel.DocTypes"/> order.</summary>
    public required double[] DocTypeProbabilities { get; init; }

    /// <summary>P(entry | passage is evidence) from the entry model, in <see cref="TrainedModel.EntryIds"/> order.</summary>
    public required double[] EntryProbabilities { get; init; }

    /// <summary>P(passage is evidence for some entry) from the evidence model.</summary>
    public required double EvidenceProbability { get; init; }

    /// <summary>Per entry, the document's strongest evidence for it: max over its passages of P(entry) x P(evidence).</summary>
    public required double[] DocumentEntry { get; init; }

    /// <summary>Per entry, the same for the passages just before and after under the same heading path.</summary>
    public required double[] NeighbourEntry { get; init; }

    /// <summary>Training document whose exemplars are left out (its own passages); -1 at inference.</summary>
    public int ExcludeGroup { get; init; } = -1;
}

/// <summary>What <see cref="PairFeatures.Compute"/> records for rationales: per entry the closest labelled passage (-1 if none), and the passage's keyword matches.</summary>
public sealed class PairExplanation(int entries)
{
    public int[] Nearest { get; } = new int[entries];

    public List<string>[]? Matched { get; set; }
}

/// <summary>Document and neighbour context of each passage from the level-one outputs of all passages of a document.</summary>
public static class PassageContext
{
    public static (double[] Document, double[][] Neighbours) Compute(IReadOnlyList<double[]> entry, IReadOnlyList<double> evidence, IReadOnlyList<Passage> passages)
    {
        ArgumentNullException.ThrowIfNull(entry);
        ArgumentNullException.ThrowIfNull(evidence);
        ArgumentNullException.ThrowIfNull(passages);
        var n = entry.Count == 0 ? 0 : entry[0].Length;
        var document = new double[n];
        var neighbours = new double[entry.Count][];
        for (var p = 0; p < entry.Count; p++)
        {
            for (var e = 0; e < n; e++)
            {
                document[e] = Math.Max(document[e], entry[p][e] * evidence[p]);
            }
        }

        for (var p = 0; p < entry.Count; p++)
        {
            var row = new double[n];
            foreach (var q in new[] { p - 1, p + 1 })
            {
                if (q < 0 || q >= entry.Count || !passages[q].Headings.SequenceEqual(passages[p].Headings))
                {
                    continue;
                }

                for (var e = 0; e < n; e++)
                {
                    row[e] = Math.Max(row[e], entry[q][e] * evidence[q]);
                }
            }

            neighbours[p] = row;
        }

        return (document, neighbours);
    }
}

/// <summary>
/// The features of a (passage, entry) pair, computed by one piece of code for training and for mapping: cosine to the
/// entry's profile statements and to its labelled training passages under both packaged encoders, the entry and
/// evidence models' probabilities, BM25 over the entry's keywords, heading match, document-type priors, position and
/// evidence / boilerplate cues.
/// </summary>
public sealed class PairFeatures
{
    public static readonly string[] Names =
    [
        "profile_cos_minilm", "profile_cos_arctic", "exemplar_max_minilm", "exemplar_top3_minilm",
        "exemplar_max_arctic", "exemplar_top3_arctic", "exemplar_gap_minilm", "exemplar_gap_arctic",
        "exemplar_rank", "profile_rank", "entry_model_p", "entry_model_rank", "entry_model_rel",
        "evidence_p", "null_exemplar_max", "bm25", "bm25_rel", "heading_match", "doctype_entry_prior",
        "doctype_listed", "entry_base_rate", "position", "log_words", "table_row", "list_item", "gate_reject",
        "heading_depth", "doc_ai_relevant", "entry_model_p_x_evidence", "document_entry_max", "neighbour_entry_max",
        "document_entry_rel",
    ];

    private readonly TrainedModel _model;
    private readonly IsoCatalog _catalog;
    private readonly LexicalControlMapper _lexical;
    private readonly int[] _lexicalIndex;
    private readonly string[][] _headings;
    private readonly bool[][] _listed;
    private readonly int _unrelated;

    public PairFeatures(TrainedModel model, IsoCatalog catalog)
    {
        _model = model;
        _catalog = catalog;
        _lexical = new LexicalControlMapper(catalog);
        var lexicalIds = _lexical.Entries.Select((e, i) => (e.Id, i)).ToDictionary(x => x.Id, x => x.i, StringComparer.Ordinal);
        _lexicalIndex = model.EntryIds.Select(id => lexicalIds[id]).ToArray();
        _headings = model.EntryIds.Select(id => catalog[id].Profile.Headings.Select(Tokenizer.Normalize).Where(h => h.Length > 0).ToArray()).ToArray();
        _listed = model.EntryIds.Select(id => model.DocTypes.Select(t => catalog[id].Profile.DocTypes.Contains(t, StringComparer.Ordinal)).ToArray()).ToArray();
        _unrelated = Array.IndexOf(model.DocTypes, Classification.DocumentTypes.Unrelated);
    }

    public int EntryCount => _model.EntryIds.Length;

    /// <summary>The input of the level-one linear models: both encoders' vectors side by side.</summary>
    public static double[] LinearInput(float[] miniLM, float[] arctic)
    {
        var x = new double[miniLM.Length + arctic.Length];
        for (var i = 0; i < miniLM.Length; i++)
        {
            x[i] = miniLM[i];
        }

        for (var i = 0; i < arctic.Length; i++)
        {
            x[miniLM.Length + i] = arctic[i];
        }

        return x;
    }

    /// <summary>Document-type probabilities from the passages alone: the softmax of the passage model's mean scores.</summary>
    public static double[] DocTypeProbabilities(TrainedModel model, IReadOnlyList<(float[] MiniLM, float[] Arctic)> vectors) =>
        LinearModel.Softmax(DocumentTypeSignals.MeanPassageScores(model.DocTypeModel, vectors));

    /// <summary>
    /// Features of the passage against every entry, in <see cref="TrainedModel.EntryIds"/> order; when given,
    /// <paramref name="explain"/> receives what rationales cite (nearest labelled passage, matched keywords).
    /// </summary>
    public double[][] Compute(PassageSignals s, PairExplanation? explain = null) => Compute(s, explain, null);

    /// <summary>
    /// The same, with <paramref name="reviewed"/> (passages reviewers decided in this deployment) beside the model's
    /// labelled passages; a nearest passage from it is recorded as <c>model exemplars + its index</c>.
    /// </summary>
    public double[][] Compute(PassageSignals s, PairExplanation? explain, ExemplarBank? reviewed)
    {
        var nearest = explain?.Nearest;
        var n = EntryCount;
        var passage = s.Passage;

        // Profile statements: best cosine per entry, per encoder.
        var profMini = Filled(n, -1);
        var profArctic = Filled(n, -1);
        for (var i = 0; i < _model.ProfileEntry.Length; i++)
        {
            var e = _model.ProfileEntry[i];
            profMini[e] = Math.Max(profMini[e], _model.ProfileMiniLM.Dot(i, s.MiniLM));
            profArctic[e] = Math.Max(profArctic[e], _model.ProfileArctic.Dot(i, s.Arctic));
        }

        // Labelled passages: top-3 cosines per entry and the best "no evidence" passage, leaving out the own document.
        var topMini = new double[n][];
        var topArctic = new double[n][];
        for (var e = 0; e < n; e++)
        {
            topMini[e] = [-1, -1, -1];
            topArctic[e] = [-1, -1, -1];
        }

        double nullMax = -1;
        var bank = _model.Exemplars;
        var nearestCos = nearest is null ? null : Filled(n, double.NegativeInfinity);
        if (nearest is not null)
        {
            Array.Fill(nearest, -1);
        }

        foreach (var (b, offset) in reviewed is null ? [(bank, 0)] : new[] { (bank, 0), (reviewed, bank.Count) })
        {
            for (var i = 0; i < b.Count; i++)
            {
                if (b.Group[i] == s.ExcludeGroup)
                {
                    continue;
                }

                var cm = b.MiniLM.Dot(i, s.MiniLM);
                var ca = b.Arctic.Dot(i, s.Arctic);
                var e = b.Entry[i];
                if (e < 0)
                {
                    nullMax = Math.Max(nullMax, (cm + ca) / 2.0);
                    continue;
                }

                Push(topMini[e], cm);
                Push(topArctic[e], ca);
                if (nearest is not null && (cm + ca) / 2.0 > nearestCos![e])
                {
                    nearestCos[e] = (cm + ca) / 2.0;
                    nearest[e] = offset + i;
                }
            }
        }

        var exMini = topMini.Select(t => t[0]).ToArray();
        var exArctic = topArctic.Select(t => t[0]).ToArray();
        var bestExMini = exMini.Max();
        var bestExArctic = exArctic.Max();
        var exRank = Ranks(exMini.Zip(exArctic, (a, b) => a + b).ToArray());
        var profRank = Ranks(profMini.Zip(profArctic, (a, b) => a + b).ToArray());
        var entryRank = Ranks(s.EntryProbabilities);
        var bestEntryP = Math.Max(1e-9, s.EntryProbabilities.Max());

        var (lexScores, matched) = _lexical.RawScores(passage);
        if (explain is not null)
        {
            explain.Matched = matched;
        }

        var bm25 = _lexicalIndex.Select(i => lexScores[i]).ToArray();
        var bestBm25 = Math.Max(1e-9, bm25.Max());
        var headingText = " " + Tokenizer.Normalize(string.Join(" ", passage.Headings)) + " ";
        var words = Math.Log(1 + passage.WordCount);
        var position = s.PassageCount <= 1 ? 0 : passage.Ordinal / (double)(s.PassageCount - 1);
        var gate = EvidenceGate.Reject(passage) is null ? 0 : 1;
        var aiRelevant = _unrelated < 0 ? 1 : 1 - s.DocTypeProbabilities[_unrelated];

        var rows = new double[n][];
        for (var e = 0; e < n; e++)
        {
            double dtPrior = 0, listed = 0;
            for (var t = 0; t < s.DocTypeProbabilities.Length; t++)
            {
                dtPrior += s.DocTypeProbabilities[t] * _model.DocTypeEntryPrior[t][e];
                listed += _listed[e][t] ? s.DocTypeProbabilities[t] : 0;
            }

            var heading = _headings[e].Any(h => headingText.Contains(" " + h + " ", StringComparison.Ordinal)) ? 1 : 0;
            rows[e] =
            [
                profMini[e], profArctic[e], exMini[e], topMini[e].Average(), exArctic[e], topArctic[e].Average(),
                bestExMini - exMini[e], bestExArctic - exArctic[e], exRank[e], profRank[e],
                s.EntryProbabilities[e], entryRank[e], s.EntryProbabilities[e] / bestEntryP,
                s.EvidenceProbability, nullMax, bm25[e], bm25[e] / bestBm25, heading, dtPrior, listed,
                _model.EntryPrior[e], position, words, passage.Kind == BlockKind.TableRow ? 1 : 0,
                passage.Kind == BlockKind.ListItem ? 1 : 0, gate, passage.Headings.Count, aiRelevant,
                s.EntryProbabilities[e] * s.EvidenceProbability, s.DocumentEntry[e], s.NeighbourEntry[e],
                (s.EntryProbabilities[e] * s.EvidenceProbability) / Math.Max(1e-6, s.DocumentEntry[e]),
            ];
        }

        return rows;
    }

    /// <summary>Keyword hits of an entry in the passage, from the matches <see cref="Compute"/> recorded (for rationales).</summary>
    public IEnumerable<string> KeywordHits(PairExplanation explain, int entry)
    {
        ArgumentNullException.ThrowIfNull(explain);
        var li = _lexicalIndex[entry];
        return explain.Matched is null ? [] : _lexical.KeywordHits(li, explain.Matched[li]);
    }

    public CatalogEntry Entry(int entry) => _catalog[_model.EntryIds[entry]];

    private static double[] Filled(int n, double value)
    {
        var a = new double[n];
        Array.Fill(a, value);
        return a;
    }

    private static void Push(double[] top, double value)
    {
        if (value <= top[2])
        {
            return;
        }

        top[2] = value;
        if (top[2] > top[1])
        {
            (top[1], top[2]) = (top[2], top[1]);
        }

        if (top[1] > top[0])
        {
            (top[0], top[1]) = (top[1], top[0]);
        }
    }

    /// <summary>0 for the highest value, 1 for the next, ...; ties by index.</summary>
    private static double[] Ranks(double[] values)
    {
        var order = Enumerable.Range(0, values.Length).OrderByDescending(i => values[i]).ThenBy(i => i).ToArray();
        var ranks = new double[values.Length];
        for (var r = 0; r < order.Length; r++)
        {
            ranks[order[r]] = r;
        }

        return ranks;
    }
}
