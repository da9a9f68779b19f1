using System.Text.RegularExpressions;

namespace Aims.Evidence.Core.Extraction;

/// <summary>Small text helpers shared by the extractors.</summary>
internal static partial class TextTools
{
    /// <summary>
    /// Joins the lines of one paragraph with single spaces. A line that ends in a hyphen (U+002D or U+2010) right after
    /// a letter, followed by a line that starts in lower case, is a word split at the line end ("infor-" + "mation"):
    /// the hyphen is dropped and the halves are joined, unless <paramref name="keepHyphen"/> (given the letters before
    /// the hyphen and those starting the next line) says the hyphenated form is the usual one ("decision-" + "making"),
    /// in which case the hyphen stays and no space is added. Without a predicate the hyphen stays only after a single
    /// letter or a capital ("AI-" + "based"). A soft hyphen (U+00AD) at a line end is always dropped.
    /// </summary>
    public static string JoinLines(IEnumerable<string> lines, Func<string, string, bool>? keepHyphen = null)
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

            if (sb[^1] == '\u00AD')
            {
                sb.Length--;
                sb.Append(line);
                continue;
            }

            if (sb.Length >= 2 && sb[^1] is '-' or '\u2010' && char.IsLetter(sb[^2]) && char.IsLower(line[0]))
            {
                var headStart = sb.Length - 1;
                while (headStart > 0 && char.IsLetter(sb[headStart - 1]))
                {
                    headStart--;
                }

                var head = sb.ToString(headStart, sb.Length - 1 - headStart);
                var tailLength = 0;
                while (tailLength < line.Length && char.IsLetter(line[tailLength]))
                {
                    tailLength++;
                }

                var keep = keepHyphen is null
                    ? head.Length < 2 || !char.IsLower(head[^1])
                    : keepHyphen(head, line[..tailLength]);
                if (!keep)
                {
                    sb.Length--;
                }

                sb.Append(line);
                continue;
            }

            sb.Append(' ').Append(line);
        }

        return sb.ToString();
    }

    [GeneratedRegex(@"\s+")]
    public static partial Regex Whitespace();
}
