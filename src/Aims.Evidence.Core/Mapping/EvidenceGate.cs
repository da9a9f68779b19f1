using System.Text.RegularExpressions;
using Aims.Evidence.Core.Segmentation;

namespace Aims.Evidence.Core.Mapping;

/// <summary>
/// Decides whether a passage can be evidence at all, before any control is considered: boilerplate, navigation,
/// bibliographies, licences, contact lines and fragments have no evidence value, whatever words they share with a profile.
/// </summary>
public static partial class EvidenceGate
{
    private static readonly string[] NoEvidenceHeadings =
    [
        "references", "bibliography", "acknowledgements", "acknowledgments", "citation", "citations", "bibtex",
        "table of contents", "contents", "footnotes", "endnotes", "license", "licence", "copyright", "about the authors",
        "authors", "contributors", "changelog", "version history", "installation", "install", "usage", "sponsors",
        "related", "further reading", "see also", "appendix: glossary", "glossary", "colophon",
    ];

    public static string? Reject(Passage passage)
    {
        ArgumentNullException.ThrowIfNull(passage);
        var text = passage.Text;
        var words = passage.WordCount;
        if (words < 8)
        {
            return "too short to be evidence";
        }

        var lastHeading = passage.Headings.Count > 0 ? passage.Headings[^1].Trim().TrimEnd(':').ToLowerInvariant() : string.Empty;
        if (NoEvidenceHeadings.Any(h => lastHeading == h || lastHeading.EndsWith(" " + h, StringComparison.Ordinal)))
        {
            return $"under a \"{passage.Headings[^1]}\" heading";
        }

        var urls = UrlPattern().Count(text);
        if (urls * 6 > words)
        {
            return "mostly links";
        }

        if (CitationPattern().IsMatch(text) && words < 80)
        {
            return "a bibliographic reference";
        }

        var letters = text.Count(char.IsLetter);
        if (letters < text.Length * 0.5)
        {
            return "mostly numbers or symbols";
        }

        if (DotLeaderPattern().IsMatch(text))
        {
            return "a table-of-contents line";
        }

        var lower = text.ToLowerInvariant();
        if (lower.Contains("all rights reserved", StringComparison.Ordinal) || lower.Contains("licensed under", StringComparison.Ordinal)
            || lower.Contains("creative commons", StringComparison.Ordinal) || lower.Contains("without warranty", StringComparison.Ordinal)
            || lower.Contains("no liability", StringComparison.Ordinal))
        {
            return "legal or licence boilerplate";
        }

        return null;
    }

    [GeneratedRegex(@"https?://|www\.", RegexOptions.IgnoreCase)]
    private static partial Regex UrlPattern();

    [GeneratedRegex(@"(\(\d{4}[a-z]?\)|\b(19|20)\d{2}\b).{0,200}(doi|arxiv|proceedings|journal|conference|pp\.|vol\.|isbn)", RegexOptions.IgnoreCase)]
    private static partial Regex CitationPattern();

    [GeneratedRegex(@"\.{5,}\s*\d+")]
    private static partial Regex DotLeaderPattern();
}
