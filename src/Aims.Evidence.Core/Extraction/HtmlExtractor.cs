using System.Text;
using AngleSharp.Dom;
using AngleSharp.Html.Parser;

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
        var parser = new HtmlParser();
        var document = parser.ParseDocument(html);
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
