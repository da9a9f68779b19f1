using System.Globalization;
using System.Text;

namespace Aims.Evidence.Core.Lexical;

/// <summary>Lower-cases, splits on non-letters/digits, drops stop words and applies a light English stemmer.</summary>
public static class Tokenizer
{
    private static readonly HashSet<string> StopWords = new(StringComparer.Ordinal)
    {
        "a", "an", "and", "are", "as", "at", "be", "been", "but", "by", "can", "could", "do", "does", "for", "from",
        "had", "has", "have", "he", "her", "his", "i", "if", "in", "into", "is", "it", "its", "may", "might", "more",
        "most", "no", "not", "of", "on", "or", "other", "our", "out", "over", "she", "should", "so", "some", "such",
        "than", "that", "the", "their", "them", "then", "there", "these", "they", "this", "those", "to", "too", "up",
        "us", "very", "was", "we", "were", "what", "when", "where", "which", "while", "who", "whom", "why", "will",
        "with", "would", "you", "your", "also", "any", "all", "each", "both", "about", "after", "before", "between",
        "during", "only", "own", "same", "via", "per", "etc", "e", "g", "ie", "eg",
    };

    /// <summary>True for the English function words <see cref="Tokens"/> drops ("of", "the", "and", ...).</summary>
    public static bool IsStopWord(string word) => StopWords.Contains(word);

    /// <summary>Normalises per the evaluation's definition: NFKC, lower case, runs of non letters/digits to one space, trimmed.</summary>
    public static string Normalize(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var nfkc = text.Normalize(NormalizationForm.FormKC).ToLowerInvariant();
        var sb = new StringBuilder(nfkc.Length);
        var space = false;
        foreach (var c in nfkc)
        {
            if (char.IsLetterOrDigit(c))
            {
                if (space && sb.Length > 0)
                {
                    sb.Append(' ');
                }

                space = false;
                sb.Append(c);
            }
            else
            {
                space = true;
            }
        }

        return sb.ToString();
    }

    public static List<string> Tokens(string text, bool keepStopWords = false)
    {
        var result = new List<string>();
        foreach (var word in Normalize(text).Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            if (!keepStopWords && (StopWords.Contains(word) || word.Length < 2))
            {
                continue;
            }

            result.Add(Stem(word));
        }

        return result;
    }

    /// <summary>A deliberately light suffix stripper: enough to match "assessments"/"assessment", "monitoring"/"monitor".</summary>
    public static string Stem(string word)
    {
        ArgumentNullException.ThrowIfNull(word);
        if (word.Length <= 4 || word.Any(char.IsDigit))
        {
            return word;
        }

        string[] suffixes = ["ational", "ization", "isation", "ations", "ation", "ments", "ment", "ness", "ities", "ity", "ings", "ing", "ies", "ied", "ers", "er", "ed", "es", "s", "ly"];
        foreach (var suffix in suffixes)
        {
            if (word.EndsWith(suffix, StringComparison.Ordinal) && word.Length - suffix.Length >= 4)
            {
                var stem = word[..^suffix.Length];
                return suffix is "ies" or "ied" or "ities" ? stem + "y" : stem;
            }
        }

        return word;
    }

    public static string ToTitle(string text) => CultureInfo.InvariantCulture.TextInfo.ToTitleCase(text);
}
