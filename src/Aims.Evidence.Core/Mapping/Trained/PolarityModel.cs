using System.Globalization;
using System.Text;
using Aims.Evidence.Core.Classification;

namespace Aims.Evidence.Core.Mapping.Trained;

/// <summary>
/// Whether a passage states that a control is absent, failed, overdue or nonconforming (a <em>finding</em>) rather
/// than evidencing it: a logistic model over hashed word and word-pair features of the passage and its nearest
/// headings, trained by <c>aims train</c> on the labelled evidence passages (the <c>finding</c> flag). No embeddings,
/// so every mapper can use it.
/// </summary>
public sealed class PolarityModel
{
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
    public static int Dimensions => Buckets + (2 * Cues.Length) + (2 * Phrases.Length) + 1 + DocumentTypes.All.Count;

    public required LinearModel Linear { get; init; }

    /// <summary>Probability from which a passage is a finding (best out-of-fold F1 on the training corpus).</summary>
    public required double Threshold { get; init; }

    public double Probability(IReadOnlyList<string> headings, string text, string? docType) => Linear.Probabilities(Features(headings, text, docType))[0];

    /// <summary>
    /// The model input. Hashed binary features, L2-normalised: "w:" words and "b:" consecutive word pairs of the text,
    /// "h:" words of the last two headings, "hb:" the last heading word with the first text word, "short:" the whole
    /// text when it has at most three words ("No" under a heading "Implemented"). Then the cue block: log(1 + count) of
    /// each cue word in the text and whether the headings have it, whether each phrase occurs in the text and in the
    /// headings, the log length, and the document's type (one-hot; an audit report states findings more often than a
    /// policy). Words are lower-case letter/digit runs; "n't" reads as " not".
    /// </summary>
    public static double[] Features(IReadOnlyList<string> headings, string text, string? docType)
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
        if (type >= 0)
        {
            x[o + type] = 1;
        }

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
