using System.Text.RegularExpressions;

namespace Aims.Evidence.Core.Extraction;

/// <summary>Plain text: paragraphs on blank lines; a short ALL-CAPS or numbered line standing alone may be a heading.</summary>
public sealed partial class PlainTextExtractor : IDocumentExtractor
{
    public IReadOnlyCollection<string> MediaTypes { get; } = [Extraction.MediaTypes.PlainText];

    public Task<ExtractedDocument> ExtractAsync(ReadOnlyMemory<byte> content, ExtractionContext context, CancellationToken cancellationToken = default)
    {
        var text = TextDecoding.Decode(content.Span);
        var builder = new LayoutBuilder();
        var page = 1;
        foreach (var chunk in SplitParagraphs(text))
        {
            cancellationToken.ThrowIfCancellationRequested();
            var lines = chunk.Split('\n');
            var pageBreaks = chunk.Count(c => c == '\f');
            var clean = chunk.Replace('\f', ' ');
            if (lines.Length == 1 && IsHeadingLine(lines[0].Trim()))
            {
                var line = lines[0].Trim();
                var numbered = NumberedHeading().Match(line);
                var level = numbered.Success ? Math.Min(9, numbered.Groups[1].Value.Count(c => c == '.') + 1) : 1;
                builder.Heading(line, level, page);
            }
            else if (lines.All(l => Bullet().IsMatch(l) || l.StartsWith(' ') || l.StartsWith('\t')) && Bullet().IsMatch(lines[0]))
            {
                var item = new List<string>();
                foreach (var line in lines)
                {
                    if (Bullet().IsMatch(line) && item.Count > 0)
                    {
                        builder.ListItem(TextTools.JoinLines(item), page);
                        item.Clear();
                    }

                    item.Add(Bullet().Replace(line, string.Empty, 1));
                }

                builder.ListItem(TextTools.JoinLines(item), page);
            }
            else
            {
                builder.Paragraph(TextTools.JoinLines(clean.Split('\n')), page);
            }

            page += pageBreaks;
        }

        return Task.FromResult(builder.Build(context.MediaType, Math.Max(1, page)));
    }

    internal static IEnumerable<string> SplitParagraphs(string text)
    {
        var lines = text.Replace("\r\n", "\n", StringComparison.Ordinal).Replace('\r', '\n').Split('\n');
        var current = new List<string>();
        foreach (var line in lines)
        {
            if (line.Trim().Length == 0)
            {
                if (current.Count > 0)
                {
                    yield return string.Join('\n', current);
                    current.Clear();
                }

                continue;
            }

            current.Add(line.TrimEnd());
        }

        if (current.Count > 0)
        {
            yield return string.Join('\n', current);
        }
    }

    private static bool IsHeadingLine(string line)
    {
        if (line.Length is 0 or > 80 || line.EndsWith('.') || line.EndsWith(',') || line.EndsWith(';'))
        {
            return false;
        }

        var letters = line.Where(char.IsLetter).ToArray();
        if (letters.Length < 2)
        {
            return false;
        }

        return letters.All(c => !char.IsLower(c)) || (NumberedHeading().IsMatch(line) && line.Split(' ').Length <= 10);
    }

    [GeneratedRegex(@"^((?:\d+\.)*\d+)\.?\s+\p{Lu}")]
    private static partial Regex NumberedHeading();

    [GeneratedRegex(@"^\s*(?:[-*•+]|\d+[.)])\s+")]
    private static partial Regex Bullet();
}
