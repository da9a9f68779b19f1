using System.Text;
using AngleSharp.Dom;
using AngleSharp.Html.Dom;
using AngleSharp.Html.Parser;
using AngleSharp.Text;

namespace Aims.Evidence.Core.Extraction;

/// <summary>HTML (AngleSharp): headings h1-h6, paragraphs, list items and table rows; page chrome and scripts dropped.</summary>
public sealed class HtmlExtractor : IDocumentExtractor
{
    private static readonly HashSet<string> Noise = new(StringComparer.OrdinalIgnoreCase)
    {
        "script", "style", "nav", "header", "footer", "aside", "noscript", "template", "svg", "canvas", "iframe",
        "object", "embed", "button", "select", "option", "form", "input", "textarea", "head", "title", "meta", "link",
    };

    private static readonly HashSet<string> BlockElements = new(StringComparer.OrdinalIgnoreCase)
    {
        "p", "div", "section", "article", "main", "blockquote", "pre", "figure", "figcaption", "address", "dl", "dt", "dd",
        "ul", "ol", "table", "thead", "tbody", "tfoot", "caption", "hr", "details", "summary", "body", "center", "fieldset", "legend",
    };

    public IReadOnlyCollection<string> MediaTypes { get; } = [Extraction.MediaTypes.Html];

    public Task<ExtractedDocument> ExtractAsync(ReadOnlyMemory<byte> content, ExtractionContext context, CancellationToken cancellationToken = default)
    {
        var html = TextDecoding.Decode(content.Span);
        var builder = new LayoutBuilder();
        var title = AddHtml(html, builder, 1, cancellationToken);
        return Task.FromResult(builder.Build(context.MediaType, 1, title));
    }

    /// <summary>Adds the visible blocks of an HTML document or fragment; returns its title if it has one.</summary>
    internal static string? AddHtml(string html, LayoutBuilder builder, int headingOffset, CancellationToken ct)
    {
        // The HTML5 tree builder scans the stack of open elements for many tags: pathological nesting (100k divs,
        // 100k "<div></x>" or "<div/>") makes parsing quadratic (72 s of CPU for 100k divs). Two guards bound the work:
        // a linear scan estimates the depth first, and past the cap the text is read without the DOM (one paragraph
        // per block), so nothing is lost and nothing hangs; while parsing, the depth of every inserted element is
        // checked, which stops any other way of nesting (misnested formatting elements, foreign content) at the cap.
        if (NestingDepth(html, MaxNestingDepth + 1) > MaxNestingDepth)
        {
            AddFlatText(html, builder, ct);
            return null;
        }

        IHtmlDocument document;
        try
        {
            document = new HtmlParser(new HtmlParserOptions { OnCreated = new DepthGuard().OnCreated }).ParseDocument(html);
        }
        catch (NestingTooDeepException)
        {
            AddFlatText(html, builder, ct);
            return null;
        }

        using (document)
        {
            var title = TextNormalizer.CollapseWhitespace(document.Title ?? string.Empty);
            var walker = new Walker(builder, headingOffset, ct);
            if (document.Body is not null)
            {
                walker.Visit(document.Body);
                walker.Flush();
            }

            if (title.Length == 0)
            {
                title = document.QuerySelector("h1")?.TextContent is { } h1 ? TextNormalizer.CollapseWhitespace(h1) : string.Empty;
            }

            return title.Length > 0 ? title : null;
        }
    }

    /// <summary>
    /// Deepest element nesting an HTML document may have before it is read without a DOM (below AngleSharp's own
    /// tree depth cap of 512, so the parse-time check sees it).
    /// </summary>
    public const int MaxNestingDepth = 400;

    /// <summary>
    /// Stops the parser once an element sits deeper than <see cref="MaxNestingDepth"/>. When an element is created the
    /// one created before it has been inserted, so its depth is the depth the tree builder works at; the cost is at
    /// most the cap per element, the same order as the parser's own scope checks.
    /// </summary>
    private sealed class DepthGuard
    {
        private IElement? _last;

        public void OnCreated(IElement element, TextPosition position)
        {
            var depth = 0;
            for (var parent = _last?.ParentElement; parent is not null; parent = parent.ParentElement)
            {
                if (++depth > MaxNestingDepth)
                {
                    throw new NestingTooDeepException();
                }
            }

            _last = element;
        }
    }

    /// <summary>Raised inside the parser by <see cref="DepthGuard"/>; never leaves <see cref="AddHtml"/>.</summary>
    private sealed class NestingTooDeepException : Exception
    {
    }

    private static readonly HashSet<string> NoEndTag = new(StringComparer.OrdinalIgnoreCase)
    {
        // Void elements and elements whose end tag may be omitted (the parser closes them implicitly).
        "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source", "track", "wbr",
        "p", "li", "dt", "dd", "tr", "td", "th", "option", "optgroup", "thead", "tbody", "tfoot", "colgroup", "caption",
        "rb", "rt", "rtc", "rp", "html", "head", "body", "!doctype",
    };

    private static readonly string[] RawText = ["script", "style", "textarea", "title", "xmp", "noscript"];

    /// <summary>Text of HTML without a DOM, in one linear pass: tags end paragraphs, scripts and styles are dropped.</summary>
    internal static void AddFlatText(string html, LayoutBuilder builder, CancellationToken ct)
    {
        var text = new StringBuilder();
        var i = 0;
        while (i < html.Length)
        {
            ct.ThrowIfCancellationRequested();
            var lt = html.IndexOf('<', i);
            text.Append(html, i, (lt < 0 ? html.Length : lt) - i);
            if (lt < 0)
            {
                break;
            }

            var gt = html.IndexOf('>', lt);
            if (gt < 0)
            {
                break;
            }

            var tag = html.AsSpan(lt + 1, gt - lt - 1).TrimStart('/');
            i = gt + 1;
            foreach (var raw in RawText)
            {
                if (tag.StartsWith(raw, StringComparison.OrdinalIgnoreCase) && (tag.Length == raw.Length || !char.IsAsciiLetterOrDigit(tag[raw.Length])) && html[lt + 1] != '/')
                {
                    var end = html.IndexOf("</" + raw, i, StringComparison.OrdinalIgnoreCase);
                    i = end < 0 ? html.Length : end;
                    break;
                }
            }

            text.Append('\n');
        }

        foreach (var line in System.Net.WebUtility.HtmlDecode(text.ToString()).Split('\n'))
        {
            var clean = TextNormalizer.CollapseWhitespace(line);
            if (clean.Length > 0)
            {
                builder.Paragraph(clean);
            }
        }
    }

    /// <summary>
    /// An estimate of the element nesting depth in one linear pass, counting elements the way the tree builder keeps
    /// them open: an end tag closes the innermost open element of its name and everything opened inside it, an end
    /// tag that matches no open element closes nothing ("&lt;div&gt;&lt;/x&gt;"), and "&lt;div/&gt;" opens a div (the slash
    /// only closes void elements and SVG or MathML content). Elements whose end tag may be omitted are not counted.
    /// Stops early once <paramref name="stopAt"/> is reached.
    /// </summary>
    internal static int NestingDepth(string html, int stopAt)
    {
        var open = new List<string>();
        var counts = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase);
        var max = 0;
        var i = 0;
        while (i < html.Length && max < stopAt)
        {
            var lt = html.IndexOf('<', i);
            if (lt < 0 || lt + 1 >= html.Length)
            {
                break;
            }

            if (string.CompareOrdinal(html, lt, "<!--", 0, 4) == 0)
            {
                var end = html.IndexOf("-->", lt + 4, StringComparison.Ordinal);
                i = end < 0 ? html.Length : end + 3;
                continue;
            }

            var closing = html[lt + 1] == '/';
            var start = closing ? lt + 2 : lt + 1;
            var n = start;
            while (n < html.Length && (char.IsAsciiLetterOrDigit(html[n]) || html[n] is '-' or ':' or '!'))
            {
                n++;
            }

            if (n == start || !(char.IsAsciiLetter(html[start]) || html[start] == '!'))
            {
                i = lt + 1;
                continue;
            }

            var name = html[start..n];
            var gt = html.IndexOf('>', n);
            if (gt < 0)
            {
                break;
            }

            i = gt + 1;
            if (NoEndTag.Contains(name) || name.StartsWith('!'))
            {
                continue;
            }

            if (closing)
            {
                if (counts.GetValueOrDefault(name) > 0)
                {
                    // Close the innermost open element of this name and everything opened inside it.
                    string popped;
                    do
                    {
                        popped = open[^1];
                        open.RemoveAt(open.Count - 1);
                        counts[popped]--;
                    }
                    while (!popped.Equals(name, StringComparison.OrdinalIgnoreCase));
                }

                continue; // an end tag that matches no open element closes nothing
            }

            var foreign = counts.GetValueOrDefault("svg") > 0 || counts.GetValueOrDefault("math") > 0;
            if (html[gt - 1] == '/' && (foreign || name.Equals("svg", StringComparison.OrdinalIgnoreCase) || name.Equals("math", StringComparison.OrdinalIgnoreCase)))
            {
                continue; // self-closing SVG or MathML element; on an HTML element the slash is ignored and it opens
            }

            open.Add(name);
            counts[name] = counts.GetValueOrDefault(name) + 1;
            max = Math.Max(max, open.Count);
            if (Array.Exists(RawText, r => r.Equals(name, StringComparison.OrdinalIgnoreCase)))
            {
                var end = html.IndexOf("</" + name, gt, StringComparison.OrdinalIgnoreCase);
                i = end < 0 ? html.Length : end;
            }
        }

        return max;
    }

    private sealed class Walker(LayoutBuilder builder, int headingOffset, CancellationToken ct)
    {
        private const int MaxDepth = 200;
        private readonly StringBuilder _buffer = new();
        private IReadOnlyList<string>? _tableHeader;
        private int _depth;

        public void Flush(BlockKind kind = BlockKind.Paragraph)
        {
            var text = TextNormalizer.CollapseWhitespace(_buffer.ToString());
            _buffer.Clear();
            if (text.Length > 0)
            {
                builder.Add(kind, text, 1);
            }
        }

        public void Visit(INode node)
        {
            ct.ThrowIfCancellationRequested();
            switch (node)
            {
                case IText text:
                    _buffer.Append(text.Data);
                    return;
                case IElement element when _depth >= MaxDepth:
                    _buffer.Append(' ').Append(element.TextContent).Append(' '); // pathological nesting: text only, no recursion
                    return;
                case IElement element:
                    _depth++;
                    try
                    {
                        VisitElement(element);
                    }
                    finally
                    {
                        _depth--;
                    }

                    return;
            }
        }

        private void VisitElement(IElement element)
        {
            var name = element.LocalName;
            if (Noise.Contains(name) || element.HasAttribute("hidden") ||
                string.Equals(element.GetAttribute("aria-hidden"), "true", StringComparison.OrdinalIgnoreCase) ||
                string.Equals(element.GetAttribute("role"), "navigation", StringComparison.OrdinalIgnoreCase))
            {
                return;
            }

            if (name.Length == 2 && name[0] is 'h' or 'H' && name[1] is >= '1' and <= '6')
            {
                Flush();
                var text = InlineText(element);
                if (text.Length > 0)
                {
                    builder.Heading(text, Math.Min(9, name[1] - '0' + headingOffset - 1));
                }

                return;
            }

            switch (name)
            {
                case "br":
                    _buffer.Append(' ');
                    return;
                case "img":
                    return;
                case "li":
                    Flush();
                    foreach (var child in element.ChildNodes)
                    {
                        if (child is IElement { LocalName: "ul" or "ol" or "table" } nested)
                        {
                            Flush(BlockKind.ListItem);
                            Visit(nested);
                        }
                        else if (child is IElement { LocalName: "p" or "div" } para)
                        {
                            _buffer.Append(' ');
                            foreach (var c in para.ChildNodes)
                            {
                                Visit(c);
                            }

                            _buffer.Append(' ');
                        }
                        else
                        {
                            Visit(child);
                        }
                    }

                    Flush(BlockKind.ListItem);
                    return;
                case "table":
                    Flush();
                    VisitTable(element);
                    return;
            }

            var isBlock = BlockElements.Contains(name);
            if (isBlock)
            {
                Flush();
            }

            foreach (var child in element.ChildNodes)
            {
                Visit(child);
            }

            if (isBlock)
            {
                Flush();
            }
        }

        private void VisitTable(IElement table)
        {
            var saved = _tableHeader;
            _tableHeader = null;
            var caption = table.Children.FirstOrDefault(c => c.LocalName == "caption");
            if (caption is not null)
            {
                builder.Paragraph(InlineText(caption));
            }

            var rows = table.QuerySelectorAll("tr").Where(r => r.Closest("table") == table).ToList();
            foreach (var row in rows)
            {
                var cells = row.Children.Where(c => c.LocalName is "td" or "th").ToList();
                var texts = cells.Select(InlineText).ToList();
                if (texts.All(t => t.Length == 0))
                {
                    continue;
                }

                var isHeader = (cells.Count > 0 && cells.All(c => c.LocalName == "th")) || row.ParentElement?.LocalName == "thead";
                if (isHeader && _tableHeader is null)
                {
                    _tableHeader = texts;
                    builder.TableRow(string.Join(" | ", texts.Where(t => t.Length > 0)), null);
                    continue;
                }

                builder.TableRow(string.Join(" | ", texts.Where(t => t.Length > 0)), _tableHeader);
            }

            _tableHeader = saved;
        }

        private static string InlineText(IElement element)
        {
            var sb = new StringBuilder();
            Collect(element, sb);
            return TextNormalizer.CollapseWhitespace(sb.ToString());
        }

        private static void Collect(INode node, StringBuilder sb, int depth = 0)
        {
            if (depth > MaxDepth)
            {
                sb.Append(' ').Append(node.TextContent).Append(' ');
                return;
            }

            foreach (var child in node.ChildNodes)
            {
                if (child is IText t)
                {
                    sb.Append(t.Data);
                }
                else if (child is IElement e && !Noise.Contains(e.LocalName) && !e.HasAttribute("hidden"))
                {
                    var block = BlockElements.Contains(e.LocalName) || e.LocalName is "br" or "li" or "tr" or "td" or "th";
                    if (block)
                    {
                        sb.Append(' ');
                    }

                    Collect(e, sb, depth + 1);
                    if (block)
                    {
                        sb.Append(' ');
                    }
                }
            }
        }
    }
}
