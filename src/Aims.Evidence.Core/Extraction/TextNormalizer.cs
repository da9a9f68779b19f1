using System.Text;

namespace Aims.Evidence.Core.Extraction;

public static class TextNormalizer
{
    /// <summary>Collapses every run of whitespace (incl. no-break and zero-width spaces) into one space and trims.</summary>
    public static string CollapseWhitespace(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var sb = new StringBuilder(text.Length);
        var pendingSpace = false;
        foreach (var c in text)
        {
            if (char.IsWhiteSpace(c) || c == '\u200B' || c == '\uFEFF' || c == '\u00AD')
            {
                pendingSpace = sb.Length > 0;
                continue;
            }

            if (char.IsControl(c))
            {
                continue;
            }

            if (pendingSpace)
            {
                sb.Append(' ');
                pendingSpace = false;
            }

            sb.Append(c);
        }

        return sb.ToString();
    }
}
