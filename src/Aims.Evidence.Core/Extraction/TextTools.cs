using System.Text.RegularExpressions;

namespace Aims.Evidence.Core.Extraction;

/// <summary>Small text helpers shared by the extractors.</summary>
internal static partial class TextTools
{
    /// <summary>Joins lines of one paragraph, removing hyphenation at line ends (e.g. "infor-" + "mation").</summary>
    public static string JoinLines(IEnumerable<string> lines)
    {
        var sb = new System.Text.StringBuilder();
        foreach (var raw in lines)
        {
            var line = raw.Trim();
            if (line.Length == 0)
            {
                continue;
            }

            if (sb.Length == 0)
            {
                sb.Append(line);
                continue;
            }

            if (EndsWithSplitHyphen(sb) && line.Length > 0 && char.IsLower(line[0]))
            {
                sb.Length--;
                sb.Append(line);
            }
            else if (sb.Length > 0 && sb[^1] == '\u00AD')
            {
                sb.Length--;
                sb.Append(line);
            }
            else
            {
                sb.Append(' ').Append(line);
            }
        }

        return sb.ToString();
    }

    private static bool EndsWithSplitHyphen(System.Text.StringBuilder sb)
    {
        // "word-" at the end of a line where the hyphen follows a lower-case letter: a split word.
        return sb.Length >= 3 && (sb[^1] == '-' || sb[^1] == '\u2010') && char.IsLower(sb[^2]) && char.IsLetter(sb[^3]);
    }

    [GeneratedRegex(@"\s+")]
    public static partial Regex Whitespace();
}
