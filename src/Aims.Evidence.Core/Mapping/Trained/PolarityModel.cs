using System.Globalization;
using System.Text;
using Aims.Evidence.Core.Classification;
using Aims.Evidence.Core.Segmentation;

namespace Aims.Evidence.Core.Mapping.Trained;

/// <summary>A passage's probability of stating a finding, and the heading of the finding record that raised it (null when its own text decided).</summary>
public sealed record PolarityScore(double Probability, string? Record);

/// <summary>
/// Whether a passage states that a control is absent, failed, overdue or nonconforming (a <em>finding</em>) rather
/// than evidencing it: a logistic model over hashed word and word-pair features of the passage and its nearest
/// headings, trained by <c>aims train</c> on the labelled evidence passages (the <c>finding</c> flag). No embeddings,
/// so every mapper can use it.
/// </summary>
public sealed partial class PolarityModel
{
    [System.Text.RegularExpressions.GeneratedRegex(@"https?://\S+#L\d+")]
    private static partial System.Text.RegularExpressions.Regex LineLinkRegex();

    private static System.Text.RegularExpressions.Regex LineLink => LineLinkRegex();

    [System.Text.RegularExpressions.GeneratedRegex(@"(?i)\bscore\W{1,3}0\b(?![.,]\d)|\b0 ?/ ?(10|5|4|3|2|1)\b")]
    private static partial System.Text.RegularExpressions.Regex ZeroScoreRegex();

    private static System.Text.RegularExpressions.Regex ZeroScore => ZeroScoreRegex();

    /// <summary>Hashed feature buckets (words, word pairs, heading words); the cue features follow them.</summary>
    public const int Buckets = 4096;

    private const int MaxWords = 256;

    /// <summary>Words that state absence, failure or a gap, counted in the text and looked for in the headings.</summary>
    private static readonly string[] Cues =
    [
        "not", "no", "never", "without", "lack", "lacks", "lacking", "missing", "absent", "none", "fail", "fails", "failed",
        "failure", "insufficient", "inadequate", "overdue", "nonconformity", "nonconformities", "gap", "gaps", "weakness",
        "weaknesses", "vulnerability", "vulnerabilities", "incomplete", "partially", "partly", "unable", "cannot",
        "deficiency", "deficiencies", "open", "outstanding", "finding", "findings", "observation", "issue", "issues", "risk",
        "recommend", "recommendation", "should",
    ];

    /// <summary>Phrases (whole words) that state absence or failure, looked for in the text and in the headings.</summary>
    private static readonly string[] Phrases =
    [
        "has not", "have not", "had not", "was not", "were not", "is not", "are not", "could not", "does not", "did not",
        "not been", "no evidence", "not implemented", "not yet", "no information", "not disclose", "not disclosed",
        "not available", "not documented", "not defined", "not performed", "not held", "not updated", "not reviewed",
        "implemented no", "status open", "major nonconformity", "minor nonconformity",
    ];

    /// <summary>Length of the model input: hashed buckets, then per cue (text count, heading), per phrase (text, heading), the length, the document type.</summary>
    public static int Dimensions => Buckets + (2 * Cues.Length) + (2 * Phrases.Length) + 1 + DocumentTypes.All.Count + ContextDimensions;

    /// <summary>Document-context block: in a finding record (alone and per document type), code-likeness, a link to source lines, a zero score.</summary>
    private static int ContextDimensions => 1 + DocumentTypes.All.Count + 3;

    /// <summary>
    /// For each passage of a document (in order): whether it lies in a <em>finding record</em>, a section whose own
    /// passages open with a severity or risk-rating field (a security audit's write-up of one vulnerability, a risk
    /// register's row), the record's heading being at least the second level.
    /// </summary>
    public static bool[] InRecords(IReadOnlyList<(IReadOnlyList<string> Headings, string Text)> passages) => [.. Records(passages).Select(r => r >= 0)];

    /// <summary>For each passage: the index of the deepest finding record it lies in (see <see cref="InRecords"/>), or -1.</summary>
    public static int[] Records(IReadOnlyList<(IReadOnlyList<string> Headings, string Text)> passages)
    {
        ArgumentNullException.ThrowIfNull(passages);
        var records = passages.Select(p => RecordPath(p.Headings, p.Text)).OfType<IReadOnlyList<string>>()
            .DistinctBy(r => string.Join('\u001f', r), StringComparer.Ordinal).ToList();
        return [.. passages.Select(p =>
        {
            var best = -1;
            for (var r = 0; r < records.Count; r++)
            {
                if (IsPrefix(records[r], p.Headings) && (best < 0 || records[r].Count > records[best].Count))
                {
                    best = r;
                }
            }

            return best;
        })];
    }

    /// <summary>
    /// A finding record is one finding: each passage of a record takes the record's mean probability when that is
    /// higher than its own (a write-up's code listing or recommendation states the same finding as its description);
    /// passages outside records keep theirs. Chosen over the plain mean and the average of the two by out-of-fold F1 on
    /// the training corpus.
    /// </summary>
    public static double[] Pool(IReadOnlyList<int> records, IReadOnlyList<double> probabilities)
    {
        ArgumentNullException.ThrowIfNull(records);
        ArgumentNullException.ThrowIfNull(probabilities);
        var result = probabilities.ToArray();
        foreach (var group in Enumerable.Range(0, records.Count).Where(i => records[i] >= 0).GroupBy(i => records[i]))
        {
            var mean = group.Average(i => probabilities[i]);
            foreach (var i in group)
            {
                result[i] = Math.Max(probabilities[i], mean);
            }
        }

        return result;
    }

    /// <summary>The probability that each passage of one document (in order) states a finding: features with the document's records, then <see cref="Pool"/>.</summary>
    public double[] Probabilities(IReadOnlyList<Passage> passages, string? docType, IReadOnlyList<double>? typeProbabilities = null) => [.. Score(passages, docType, typeProbabilities).Select(s => s.Probability)];

    /// <summary><see cref="Probabilities"/> with, for a passage whose record's mean raised its probability, the record's heading (for the rationale).</summary>
    public IReadOnlyList<PolarityScore> Score(IReadOnlyList<Passage> passages, string? docType, IReadOnlyList<double>? typeProbabilities = null)
    {
        ArgumentNullException.ThrowIfNull(passages);
        var records = Records([.. passages.Select(p => (p.Headings, p.Text))]);
        var raw = passages.Select((p, i) => Linear.Probabilities(Features(p.Headings, p.Text, docType, records[i] >= 0, typeProbabilities))[0]).ToArray();
        var pooled = Pool(records, raw);
        var headings = Enumerable.Range(0, passages.Count).Where(i => records[i] >= 0).GroupBy(i => records[i])
            .ToDictionary(g => g.Key, g => RecordHeading([.. g.Select(i => passages[i].Headings)]));
        return [.. pooled.Select((p, i) => new PolarityScore(p, p > raw[i] ? headings[records[i]] : null))];
    }

    /// <summary>The heading that opens a record: the deepest heading its passages' heading paths share.</summary>
    private static string? RecordHeading(IReadOnlyList<IReadOnlyList<string>> members)
    {
        var depth = members.Min(h => h.Count);
        for (var d = 0; d < depth; d++)
        {
            if (members.Any(h => !string.Equals(h[d], members[0][d], StringComparison.Ordinal)))
            {
                depth = d;
                break;
            }
        }

        return depth > 0 ? members[0][depth - 1] : null;
    }

    private static readonly HashSet<string> Levels = new(["critical", "high", "medium", "moderate", "low", "informational", "info", "minor", "major", "severe"], StringComparer.Ordinal);

    /// <summary>
    /// The section a passage opens as a finding record, or null: a severity (or risk rating) field with its level, in
    /// the text ("Severity: High") or as the passage's last heading with the level as its text (a key-value table
    /// whose keys were laid out as headings); the section must be below the document's title.
    /// </summary>
    private static IReadOnlyList<string>? RecordPath(IReadOnlyList<string> headings, string text)
    {
        var words = Words(text, 40);
        if (headings.Count >= 3 && words.Count > 0 && Levels.Contains(words[0]))
        {
            // The whole last heading is the field's name ("Severity", "Risk rating") and the text its level.
            var field = Words(headings[^1], 8);
            if (IsSeverityField(field, 0) == field.Count)
            {
                return headings.Take(headings.Count - 1).ToArray();
            }
        }

        if (headings.Count < 2)
        {
            return null;
        }

        for (var i = 0; i < words.Count; i++)
        {
            if (IsSeverityField(words, i) is { } end && words.Skip(end).Take(6).Any(Levels.Contains))
            {
                return headings;
            }
        }

        return null;
    }

    /// <summary>When a severity field name starts at <paramref name="i"/>: the index after it.</summary>
    private static int? IsSeverityField(List<string> words, int i) =>
        i < words.Count && words[i] == "severity" ? i + 1
        : i + 1 < words.Count && words[i] == "risk" && words[i + 1] is "rating" or "level" ? i + 2
        : null;

    private static bool IsPrefix(IReadOnlyList<string> prefix, IReadOnlyList<string> path)
    {
        if (prefix.Count > path.Count)
        {
            return false;
        }

        for (var i = 0; i < prefix.Count; i++)
        {
            if (!string.Equals(prefix[i], path[i], StringComparison.Ordinal))
            {
                return false;
            }
        }

        return true;
    }

    public required LinearModel Linear { get; init; }

    /// <summary>Probability from which a passage is a finding (best out-of-fold F1 on the training corpus).</summary>
    public required double Threshold { get; init; }

    /// <summary>
    /// Type probabilities when only the decided type and its confidence are known (a classifier that keeps no
    /// probabilities): the confidence on the decided type, the rest spread evenly over the others.
    /// </summary>
    public static double[] TypeProbabilities(string docType, double confidence)
    {
        var n = DocumentTypes.All.Count;
        var c = Math.Clamp(confidence, 1.0 / n, 1);
        var i = IndexOf(DocumentTypes.All, docType);
        return [.. Enumerable.Range(0, n).Select(t => i < 0 ? 1.0 / n : t == i ? c : (1 - c) / (n - 1))];
    }

    /// <summary>The probability for a passage read alone (a one-passage document: no record around it).</summary>
    public double Probability(IReadOnlyList<string> headings, string text, string? docType, IReadOnlyList<double>? typeProbabilities = null) => Linear.Probabilities(Features(headings, text, docType, false, typeProbabilities))[0];

    /// <summary>
    /// The model input. Hashed binary features, L2-normalised: "w:" words and "b:" consecutive word pairs of the text,
    /// "h:" words of the last two headings, "hb:" the last heading word with the first text word, "short:" the whole
    /// text when it has at most three words ("No" under a heading "Implemented"). Then the cue block: log(1 + count) of
    /// each cue word in the text and whether the headings have it, whether each phrase occurs in the text and in the
    /// headings, the log length, and the document's type (an audit report states findings more often than a policy):
    /// the deciding classifier's probability per type (<paramref name="typeProbabilities"/>, over
    /// <see cref="DocumentTypes.All"/>) when given, so a report the classifier hesitates over keeps part of its audit
    /// signal; else one-hot of <paramref name="docType"/>. Words are lower-case letter/digit runs; "n't" reads as " not".
    /// </summary>
    public static double[] Features(IReadOnlyList<string> headings, string text, string? docType, bool inRecord = false, IReadOnlyList<double>? typeProbabilities = null)
    {
        ArgumentNullException.ThrowIfNull(headings);
        ArgumentNullException.ThrowIfNull(text);
        var x = new double[Dimensions];
        var words = Words(text, MaxWords);
        var headingWords = headings.Skip(Math.Max(0, headings.Count - 2)).SelectMany(h => Words(h, 32)).ToList();
        for (var i = 0; i < words.Count; i++)
        {
            x[Bucket("w:", words[i], null)] = 1;
            if (i > 0)
            {
                x[Bucket("b:", words[i - 1], words[i])] = 1;
            }
        }

        foreach (var w in headingWords)
        {
            x[Bucket("h:", w, null)] = 1;
        }

        if (words.Count > 0 && headingWords.Count > 0)
        {
            x[Bucket("hb:", headingWords[^1], words[0])] = 1;
            if (words.Count <= 3)
            {
                x[Bucket("short:", string.Join(' ', words), null)] = 1;
            }
        }

        var norm = 0.0;
        for (var i = 0; i < Buckets; i++)
        {
            norm += x[i];
        }

        norm = Math.Sqrt(norm);
        for (var i = 0; norm > 0 && i < Buckets; i++)
        {
            x[i] /= norm;
        }

        var o = Buckets;
        var headingSet = headingWords.ToHashSet(StringComparer.Ordinal);
        foreach (var cue in Cues)
        {
            var count = words.Count(w => w == cue);
            x[o++] = Math.Log(1 + count);
            x[o++] = headingSet.Contains(cue) ? 1 : 0;
        }

        var joined = " " + string.Join(' ', words) + " ";
        var joinedHeadings = " " + string.Join(' ', headingWords) + " ";
        foreach (var phrase in Phrases)
        {
            x[o++] = joined.Contains(" " + phrase + " ", StringComparison.Ordinal) ? 1 : 0;
            x[o++] = joinedHeadings.Contains(" " + phrase + " ", StringComparison.Ordinal) ? 1 : 0;
        }

        x[o++] = Math.Log(1 + words.Count) / 6;
        var type = docType is null ? -1 : IndexOf(DocumentTypes.All, docType);
        void WriteType(int at)
        {
            if (typeProbabilities is not null)
            {
                for (var t = 0; t < DocumentTypes.All.Count; t++)
                {
                    x[at + t] = typeProbabilities[t];
                }
            }
            else if (type >= 0)
            {
                x[at + type] = 1;
            }
        }

        WriteType(o);
        o += DocumentTypes.All.Count;
        if (inRecord)
        {
            x[o] = 1;
            WriteType(o + 1);
        }

        o += 1 + DocumentTypes.All.Count;
        var code = 0;
        foreach (var c in text)
        {
            code += c is '{' or '}' or '(' or ')' or ';' or '=' or '<' or '>' or '[' or ']' or '_' ? 1 : 0;
        }

        x[o++] = Math.Min(1, 10.0 * code / Math.Max(1, text.Length));
        x[o++] = LineLink.IsMatch(text) ? 1 : 0;
        x[o++] = ZeroScore.IsMatch(text) ? 1 : 0;
        return x;
    }

    private static int IndexOf(IReadOnlyList<string> values, string value)
    {
        for (var i = 0; i < values.Count; i++)
        {
            if (string.Equals(values[i], value, StringComparison.Ordinal))
            {
                return i;
            }
        }

        return -1;
    }

    private static List<string> Words(string text, int max)
    {
        var words = new List<string>();
        var current = new StringBuilder();
        void Flush()
        {
            if (current.Length == 0)
            {
                return;
            }

            var w = current.ToString();
            current.Clear();
            if (w == "t" && words.Count > 0 && words[^1].EndsWith('n'))
            {
                words[^1] = words[^1][..^1];
                w = "not";
            }

            words.Add(w);
        }

        foreach (var c in text)
        {
            if (words.Count >= max)
            {
                break;
            }

            if (char.IsLetterOrDigit(c))
            {
                current.Append(char.ToLowerInvariant(c));
            }
            else
            {
                Flush();
            }
        }

        if (words.Count < max)
        {
            Flush();
        }

        return words;
    }

    /// <summary>FNV-1a over the UTF-16 code units: stable across processes and platforms (unlike string hash codes).</summary>
    private static int Bucket(string prefix, string a, string? b)
    {
        var h = 2166136261u;
        void Add(string s)
        {
            foreach (var c in s)
            {
                h = (h ^ c) * 16777619u;
            }
        }

        Add(prefix);
        Add(a);
        if (b is not null)
        {
            Add(" ");
            Add(b);
        }

        return (int)(h % Buckets);
    }

    internal void Write(BinaryWriter w)
    {
        Linear.Write(w);
        w.Write(Threshold);
    }

    internal static PolarityModel Read(BinaryReader r) => new() { Linear = LinearModel.Read(r), Threshold = r.ReadDouble() };

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"polarity model, threshold {Threshold:0.00}");
}
