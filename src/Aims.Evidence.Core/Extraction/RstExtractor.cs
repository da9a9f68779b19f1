using System.Text;
using System.Text.RegularExpressions;

namespace Aims.Evidence.Core.Extraction;

/// <summary>
/// reStructuredText: section titles (underlined, or over- and underlined) with levels by first appearance of each
/// adornment style; bullet and enumerated lists; prose directives keep their body, code/image/meta directives
/// are dropped; inline markup removed; grid and simple tables become rows.
/// </summary>
public sealed partial class RstExtractor : IDocumentExtractor
{
    private static readonly HashSet<string> DroppedDirectives = new(StringComparer.OrdinalIgnoreCase)
    {
        "code", "code-block", "sourcecode", "literalinclude", "include", "image", "raw", "math", "toctree", "contents",
        "meta", "highlight", "sectnum", "header", "footer", "default-role", "role", "title", "csv-table", "autosummary",
        "automodule", "autoclass", "autofunction", "graphviz", "mermaid", "only", "ifconfig", "index", "plot", "doctest", "testcode",
    };

    public IReadOnlyCollection<string> MediaTypes { get; } = [Extraction.MediaTypes.ReStructuredText];

    public Task<ExtractedDocument> ExtractAsync(ReadOnlyMemory<byte> content, ExtractionContext context, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(context);
        var text = TextDecoding.Decode(content.Span).Replace("\r\n", "\n", StringComparison.Ordinal).Replace('\t', ' ');
        var lines = text.Split('\n').Select(l => l.TrimEnd()).ToList();
        var state = new ParseState(new LayoutBuilder(), []);
        Parse(lines, state, 0, cancellationToken);
        var title = state.Builder.Build(context.MediaType).Blocks.FirstOrDefault(b => b.Kind == BlockKind.Heading)?.Text;
        return Task.FromResult(state.Builder.Build(context.MediaType, 1, title));
    }

    private sealed record ParseState(LayoutBuilder Builder, List<string> Styles);

    private static void Parse(List<string> lines, ParseState state, int depth, CancellationToken ct)
    {
        if (depth > 20)
        {
            return;
        }

        var b = state.Builder;
        var i = 0;
        while (i < lines.Count)
        {
            ct.ThrowIfCancellationRequested();
            var line = lines[i];
            if (line.Length == 0)
            {
                i++;
                continue;
            }

            var indent = Indent(line);
            var trimmed = line.Trim();

            // Over- and underlined title.
            if (indent == 0 && IsAdornment(trimmed) && i + 2 < lines.Count && lines[i + 1].Trim().Length > 0 &&
                IsAdornment(lines[i + 2].Trim()) && lines[i + 2].Trim()[0] == trimmed[0])
            {
                b.Heading(Inline(lines[i + 1].Trim()), Level(state, "over" + trimmed[0]));
                i += 3;
                continue;
            }

            // Underlined title.
            if (indent == 0 && i + 1 < lines.Count && IsAdornment(lines[i + 1].Trim()) && !IsAdornment(trimmed) &&
                lines[i + 1].Trim().Length >= Math.Min(trimmed.Length, 3) && !SimpleTableBorder().IsMatch(lines[i + 1]))
            {
                b.Heading(Inline(trimmed), Level(state, "under" + lines[i + 1].Trim()[0]));
                i += 2;
                continue;
            }

            if (IsAdornment(trimmed) && trimmed.Length >= 4 && !SimpleTableBorder().IsMatch(trimmed))
            {
                i++; // transition
                continue;
            }

            if (trimmed.StartsWith('+') && GridBorder().IsMatch(trimmed))
            {
                i = GridTable(lines, i, b);
                continue;
            }

            if (SimpleTableBorder().IsMatch(line) && trimmed.Contains(' ', StringComparison.Ordinal))
            {
                i = SimpleTable(lines, i, b);
                continue;
            }

            var directive = Directive().Match(line);
            if (directive.Success)
            {
                var name = directive.Groups[1].Value;
                var argument = directive.Groups[2].Value.Trim();
                var (body, next) = IndentedBlock(lines, i + 1, indent);
                i = next;
                if (DroppedDirectives.Contains(name))
                {
                    continue;
                }

                if (name.Equals("list-table", StringComparison.OrdinalIgnoreCase))
                {
                    if (argument.Length > 0)
                    {
                        b.Paragraph(Inline(argument));
                    }

                    ListTable(body, b);
                    continue;
                }

                if (name is "figure" or "Figure")
                {
                    argument = string.Empty; // the image path
                }

                if (argument.Length > 0)
                {
                    b.Paragraph(Inline(argument));
                }

                Parse(body.Where(l => !FieldOption().IsMatch(l)).SkipWhile(l => l.Length == 0).ToList(), state, depth + 1, ct);
                continue;
            }

            if (trimmed.StartsWith("..", StringComparison.Ordinal) && (trimmed.Length == 2 || trimmed[2] == ' '))
            {
                // comment, hyperlink target, footnote or substitution definition
                var (_, next) = IndentedBlock(lines, i + 1, indent);
                i = next;
                continue;
            }

            var bullet = ListMarker().Match(line);
            if (bullet.Success)
            {
                var textColumn = bullet.Length;
                var itemLines = new List<string> { line[textColumn..] };
                var j = i + 1;
                while (j < lines.Count && lines[j].Length > 0 && Indent(lines[j]) >= textColumn)
                {
                    itemLines.Add(lines[j]);
                    j++;
                }

                // continuation paragraphs and nested lists of the item
                var (rest, next) = IndentedBlock(lines, j, indent, textColumn);
                b.ListItem(Inline(TextTools.JoinLines(itemLines)));
                if (rest.Count > 0)
                {
                    Parse(rest, state, depth + 1, ct);
                }

                i = next;
                continue;
            }

            // paragraph: lines up to a blank line or a change of indentation
            var para = new List<string> { trimmed };
            var k = i + 1;
            while (k < lines.Count && lines[k].Length > 0 && Indent(lines[k]) == indent && !ListMarker().IsMatch(lines[k]) &&
                   !(k + 1 < lines.Count && IsAdornment(lines[k + 1].Trim()) && lines[k + 1].Trim().Length >= 3))
            {
                para.Add(lines[k].Trim());
                k++;
            }

            var paragraph = TextTools.JoinLines(para);
            var literal = paragraph.EndsWith("::", StringComparison.Ordinal);
            if (literal)
            {
                paragraph = paragraph.EndsWith(" ::", StringComparison.Ordinal) ? paragraph[..^3] : paragraph[..^1];
            }

            if (FieldList().Match(paragraph) is { Success: true } field && para.Count == 1)
            {
                paragraph = $"{field.Groups[1].Value}: {field.Groups[2].Value}";
            }

            b.Paragraph(Inline(paragraph));
            i = k;
            if (literal)
            {
                var (_, next) = IndentedBlock(lines, i, indent);
                i = next; // the literal (code) block
            }
        }
    }

    private static int Level(ParseState state, string style)
    {
        var index = state.Styles.IndexOf(style);
        if (index < 0)
        {
            state.Styles.Add(style);
            index = state.Styles.Count - 1;
        }

        return Math.Min(9, index + 1);
    }

    /// <summary>Lines after <paramref name="start"/> indented more than <paramref name="indent"/> (blank lines included), dedented.</summary>
    private static (List<string> Body, int Next) IndentedBlock(List<string> lines, int start, int indent, int? minIndent = null)
    {
        var body = new List<string>();
        var j = start;
        var threshold = minIndent ?? (indent + 1);
        while (j < lines.Count && (lines[j].Length == 0 || Indent(lines[j]) >= threshold))
        {
            body.Add(lines[j]);
            j++;
        }

        while (body.Count > 0 && body[^1].Length == 0)
        {
            body.RemoveAt(body.Count - 1);
            j--;
        }

        var dedent = body.Where(l => l.Length > 0).Select(Indent).DefaultIfEmpty(0).Min();
        return (body.Select(l => l.Length >= dedent ? l[dedent..] : l.TrimStart()).ToList(), Math.Max(j, start));
    }

    private static int GridTable(List<string> lines, int start, LayoutBuilder b)
    {
        var borderLine = lines[start].Trim();
        var indent = Indent(lines[start]);
        var columns = new List<int>();
        for (var c = 0; c < borderLine.Length; c++)
        {
            if (borderLine[c] == '+')
            {
                columns.Add(c);
            }
        }

        IReadOnlyList<string>? header = null;
        var rowCells = new List<StringBuilder>();
        var i = start + 1;
        for (; i < lines.Count; i++)
        {
            var line = lines[i].Length > indent ? lines[i][indent..] : string.Empty;
            if (line.Length == 0 || (line[0] != '|' && line[0] != '+'))
            {
                break;
            }

            if (line[0] == '+')
            {
                var cells = rowCells.Select(s => Inline(TextNormalizer.CollapseWhitespace(s.ToString()))).ToList();
                if (cells.Any(c => c.Length > 0))
                {
                    var text = string.Join(" | ", cells.Where(c => c.Length > 0));
                    if (header is null && line.Contains('=', StringComparison.Ordinal))
                    {
                        header = cells;
                        b.TableRow(text, null);
                    }
                    else
                    {
                        b.TableRow(text, header);
                    }
                }

                rowCells.Clear();
                continue;
            }

            var parts = line.Trim('|').Split('|');
            while (rowCells.Count < parts.Length)
            {
                rowCells.Add(new StringBuilder());
            }

            for (var p = 0; p < parts.Length; p++)
            {
                rowCells[p].Append(' ').Append(parts[p].Trim());
            }
        }

        return i;
    }

    private static int SimpleTable(List<string> lines, int start, LayoutBuilder b)
    {
        var border = lines[start];
        var spans = new List<(int Start, int End)>();
        foreach (Match m in EqualsRun().Matches(border))
        {
            spans.Add((m.Index, m.Index + m.Length));
        }

        var rows = new List<List<string>>();
        var borders = 1;
        var headerRows = 0;
        var i = start + 1;
        for (; i < lines.Count; i++)
        {
            var line = lines[i];
            if (SimpleTableBorder().IsMatch(line) && line.Trim().Length > 0)
            {
                borders++;
                if (borders == 2 && i + 1 < lines.Count && lines[i + 1].Trim().Length > 0)
                {
                    headerRows = rows.Count;
                    continue;
                }

                i++;
                break;
            }

            if (line.Trim().Length == 0)
            {
                continue;
            }

            var cells = new List<string>();
            for (var s = 0; s < spans.Count; s++)
            {
                var from = spans[s].Start;
                var to = s + 1 < spans.Count ? spans[s + 1].Start : line.Length;
                cells.Add(from < line.Length ? line[from..Math.Min(to, line.Length)].Trim() : string.Empty);
            }

            if (cells[0].Length == 0 && rows.Count > 0)
            {
                for (var c = 0; c < cells.Count; c++)
                {
                    rows[^1][c] = (rows[^1][c] + " " + cells[c]).Trim();
                }
            }
            else
            {
                rows.Add(cells);
            }
        }

        IReadOnlyList<string>? header = headerRows > 0 ? rows[headerRows - 1].Select(Inline).ToList() : null;
        for (var r = 0; r < rows.Count; r++)
        {
            var cells = rows[r].Select(Inline).ToList();
            b.TableRow(string.Join(" | ", cells.Where(c => c.Length > 0)), r < headerRows ? null : header);
        }

        return i;
    }

    private static void ListTable(List<string> body, LayoutBuilder b)
    {
        var rows = new List<List<string>>();
        foreach (var raw in body)
        {
            if (FieldOption().IsMatch(raw))
            {
                continue;
            }

            var line = raw.TrimEnd();
            var m = ListTableCell().Match(line);
            if (m.Success)
            {
                if (m.Groups[1].Value.Length > 0)
                {
                    rows.Add([]);
                }

                if (rows.Count == 0)
                {
                    rows.Add([]);
                }

                rows[^1].Add(m.Groups[2].Value.Trim());
            }
            else if (line.Trim().Length > 0 && rows.Count > 0 && rows[^1].Count > 0)
            {
                rows[^1][^1] = (rows[^1][^1] + " " + line.Trim()).Trim();
            }
        }

        IReadOnlyList<string>? header = null;
        foreach (var row in rows)
        {
            var cells = row.Select(Inline).ToList();
            b.TableRow(string.Join(" | ", cells.Where(c => c.Length > 0)), header);
            header ??= cells;
        }
    }

    /// <summary>Removes inline markup: roles, references, emphasis, literals, substitutions and footnote references.</summary>
    internal static string Inline(string text)
    {
        text = Role().Replace(text, m => TargetText(m.Groups[1].Value));
        text = NamedReference().Replace(text, m => TargetText(m.Groups[1].Value));
        text = Literal().Replace(text, "$1");
        text = Strong().Replace(text, "$1");
        text = Emphasis().Replace(text, "$1");
        text = FootnoteRef().Replace(text, string.Empty);
        text = Substitution().Replace(text, "$1");
        text = SimpleReference().Replace(text, "$1");
        text = Interpreted().Replace(text, "$1");
        return TextNormalizer.CollapseWhitespace(text.Replace("\\", string.Empty, StringComparison.Ordinal));
    }

    private static string TargetText(string inner)
    {
        var m = EmbeddedUri().Match(inner);
        return m.Success ? m.Groups[1].Value.Trim() : inner;
    }

    private static bool IsAdornment(string s)
    {
        if (s.Length < 2)
        {
            return false;
        }

        var c = s[0];
        if (char.IsLetterOrDigit(c) || char.IsWhiteSpace(c) || !"=-`:'\"~^_*+#<>.".Contains(c, StringComparison.Ordinal))
        {
            return false;
        }

        return s.All(x => x == c);
    }

    private static int Indent(string line)
    {
        var n = 0;
        while (n < line.Length && line[n] == ' ')
        {
            n++;
        }

        return n;
    }

    [GeneratedRegex(@"^\s*\.\.\s+([A-Za-z][\w:+.-]*)::(.*)$")]
    private static partial Regex Directive();

    [GeneratedRegex(@"^\s*(?:[-*+•‣⁃]|\(?(?:\d+|[a-zA-Z]|[ivxlcdm]+|#)[.)])\s+")]
    private static partial Regex ListMarker();

    [GeneratedRegex(@"^\s*:[\w -]+:(?:\s|$)")]
    private static partial Regex FieldOption();

    [GeneratedRegex(@"^:([^:]+):\s+(.+)$")]
    private static partial Regex FieldList();

    [GeneratedRegex(@"^\+(?:[-=]+\+)+$")]
    private static partial Regex GridBorder();

    [GeneratedRegex(@"^\s*=+(?:\s+=+)+\s*$")]
    private static partial Regex SimpleTableBorder();

    [GeneratedRegex(@"=+")]
    private static partial Regex EqualsRun();

    [GeneratedRegex(@"^\s*(\*\s+)?-\s+(.*)$|^\s*(\*\s+)-\s*$")]
    private static partial Regex ListTableCell();

    [GeneratedRegex(@":[\w:+.-]+:`([^`]+)`")]
    private static partial Regex Role();

    [GeneratedRegex(@"`([^`]+)`__?")]
    private static partial Regex NamedReference();

    [GeneratedRegex(@"``(.+?)``")]
    private static partial Regex Literal();

    [GeneratedRegex(@"\*\*(.+?)\*\*")]
    private static partial Regex Strong();

    [GeneratedRegex(@"(?<![\w*])\*(?![\s*])(.+?)(?<!\s)\*(?![\w*])")]
    private static partial Regex Emphasis();

    [GeneratedRegex(@"\s?\[(?:\d+|#[\w-]*|\*|[\w-]+)\]_")]
    private static partial Regex FootnoteRef();

    [GeneratedRegex(@"\|([^|\s][^|]*?)\|_{0,2}")]
    private static partial Regex Substitution();

    [GeneratedRegex(@"\b([\w-]+)__?(?!\w)")]
    private static partial Regex SimpleReference();

    [GeneratedRegex(@"`([^`]+)`")]
    private static partial Regex Interpreted();

    [GeneratedRegex(@"^(.*?)\s*<[^<>]+>$", RegexOptions.Singleline)]
    private static partial Regex EmbeddedUri();
}
