using System.Text;
using DocumentFormat.OpenXml;
using DocumentFormat.OpenXml.Packaging;
using DocumentFormat.OpenXml.Wordprocessing;

namespace Aims.Evidence.Core.Extraction;

/// <summary>DOCX (Open XML SDK): heading styles and outline levels, numbered/bulleted paragraphs, tables by row.</summary>
public sealed class DocxExtractor : IDocumentExtractor
{
    public IReadOnlyCollection<string> MediaTypes { get; } = [Extraction.MediaTypes.Docx];

    public Task<ExtractedDocument> ExtractAsync(ReadOnlyMemory<byte> content, ExtractionContext context, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(context);
        var doc = OpenXmlPackages.Open(content, "DOCX", context.Limits, static (stream, settings) => WordprocessingDocument.Open(stream, false, settings));

        using (doc)
        {
            var body = doc.MainDocumentPart?.Document?.Body
                ?? throw new DocumentRejectedException(RejectionKind.Invalid, "not a valid DOCX (no document body)");
            var styles = new StyleIndex(doc.MainDocumentPart.StyleDefinitionsPart?.Styles);
            var builder = new LayoutBuilder();
            string? title = null;
            var page = 1;
            foreach (var element in BlockElements(body))
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (element is Paragraph paragraph)
                {
                    var text = ParagraphText(paragraph, ref page, out var pageAfter);
                    var (level, isTitle, isList) = styles.Classify(paragraph);
                    if (level > 0)
                    {
                        builder.Heading(text, level, page);
                        if (isTitle || (title is null && level == 1))
                        {
                            title = isTitle || title is null ? TextNormalizer.CollapseWhitespace(text) : title;
                        }
                    }
                    else if (isList)
                    {
                        builder.ListItem(text, page);
                    }
                    else
                    {
                        builder.Paragraph(text, page);
                    }

                    page = pageAfter;
                    AddTextBoxes(paragraph, builder, page);
                }
                else if (element is Table table)
                {
                    AddTable(table, builder, page);
                }

                if (builder.Count > context.Limits.MaxBlocks)
                {
                    throw new DocumentRejectedException(RejectionKind.Invalid, $"the DOCX has more than {context.Limits.MaxBlocks} blocks");
                }
            }

            var coreTitle = doc.PackageProperties.Title;
            return Task.FromResult(builder.Build(context.MediaType, null, string.IsNullOrWhiteSpace(coreTitle) ? title : coreTitle.Trim()) with
            {
                MetadataDates = DocumentDates.FromMetadata("DOCX", doc.PackageProperties.Modified, doc.PackageProperties.Created),
            });
        }
    }

    /// <summary>Paragraphs and tables in document order, through block content controls and custom XML, without recursion.</summary>
    private static IEnumerable<OpenXmlElement> BlockElements(OpenXmlElement container)
    {
        var stack = new Stack<IEnumerator<OpenXmlElement>>();
        stack.Push(container.ChildElements.GetEnumerator());
        try
        {
            while (stack.Count > 0)
            {
                var children = stack.Peek();
                if (!children.MoveNext())
                {
                    stack.Pop().Dispose();
                    continue;
                }

                switch (children.Current)
                {
                    case Paragraph or Table:
                        yield return children.Current;
                        break;
                    case SdtBlock sdt when sdt.SdtContentBlock is not null:
                        stack.Push(sdt.SdtContentBlock.ChildElements.GetEnumerator());
                        break;
                    case CustomXmlBlock custom:
                        stack.Push(custom.ChildElements.GetEnumerator());
                        break;
                }
            }
        }
        finally
        {
            while (stack.Count > 0)
            {
                stack.Pop().Dispose();
            }
        }
    }

    /// <summary>Text boxes anchored in a paragraph become paragraphs after it (the VML fallback copy is skipped).</summary>
    private static void AddTextBoxes(Paragraph paragraph, LayoutBuilder builder, int page)
    {
        foreach (var box in paragraph.Descendants<TextBoxContent>())
        {
            if (box.Ancestors<AlternateContentFallback>().Any())
            {
                continue;
            }

            foreach (var inner in box.Elements<Paragraph>())
            {
                var ignored = page;
                builder.Paragraph(ParagraphText(inner, ref ignored, out _), page);
            }
        }
    }

    private static void AddTable(Table table, LayoutBuilder builder, int page)
    {
        IReadOnlyList<string>? header = null;
        foreach (var row in table.Elements<TableRow>())
        {
            var cells = row.Elements<TableCell>().Select(CellText).ToList();
            if (cells.All(c => c.Length == 0))
            {
                continue;
            }

            var text = string.Join(" | ", cells.Where(c => c.Length > 0));
            if (header is null)
            {
                header = cells;
                builder.TableRow(text, null, page);
                continue;
            }

            builder.TableRow(text, header, page);
        }
    }

    private static string CellText(TableCell cell)
    {
        var parts = new List<string>();
        foreach (var p in cell.Descendants<Paragraph>())
        {
            var ignored = 1;
            parts.Add(ParagraphText(p, ref ignored, out _));
        }

        return TextNormalizer.CollapseWhitespace(string.Join(' ', parts));
    }

    private static string ParagraphText(Paragraph paragraph, ref int page, out int pageAfter)
    {
        var sb = new StringBuilder();
        var breaks = 0;
        foreach (var node in paragraph.Descendants())
        {
            switch (node)
            {
                case Text t when t.Parent is Run && !IsInsideNestedParagraph(t, paragraph):
                    sb.Append(t.Text);
                    break;
                case TabChar or CarriageReturn:
                    sb.Append(' ');
                    break;
                case Break br:
                    if (br.Type?.Value == BreakValues.Page)
                    {
                        if (sb.Length == 0)
                        {
                            page++; // a break before any text moves this paragraph to the next page
                        }
                        else
                        {
                            breaks++;
                        }
                    }

                    sb.Append(' ');
                    break;
                case NoBreakHyphen:
                    sb.Append('-');
                    break;
            }
        }

        pageAfter = page + breaks;
        if (paragraph.ParagraphProperties?.PageBreakBefore is { } pbb && (pbb.Val is null || pbb.Val.Value))
        {
            page++;
            pageAfter++;
        }

        return sb.ToString();
    }

    private static bool IsInsideNestedParagraph(OpenXmlElement element, Paragraph owner)
    {
        for (var p = element.Parent; p is not null; p = p.Parent)
        {
            if (p is Paragraph)
            {
                return !ReferenceEquals(p, owner);
            }
        }

        return false;
    }

    private sealed class StyleIndex
    {
        private readonly Dictionary<string, Style> _styles = new(StringComparer.OrdinalIgnoreCase);

        public StyleIndex(Styles? styles)
        {
            if (styles is null)
            {
                return;
            }

            foreach (var style in styles.Elements<Style>())
            {
                if (style.StyleId?.Value is { } id)
                {
                    _styles[id] = style;
                }
            }
        }

        /// <summary>Heading level (0 = none), whether it is the Title style, whether it is a list paragraph.</summary>
        public (int Level, bool IsTitle, bool IsList) Classify(Paragraph paragraph)
        {
            var props = paragraph.ParagraphProperties;
            var styleId = props?.ParagraphStyleId?.Val?.Value;
            var outline = props?.OutlineLevel?.Val?.Value;
            var numbered = props?.NumberingProperties is { } np && np.NumberingId?.Val?.Value != 0;
            var level = 0;
            var isTitle = false;
            var depth = 0;
            for (var id = styleId; id is not null && depth < 20; depth++)
            {
                var name = _styles.TryGetValue(id, out var style) ? style.StyleName?.Val?.Value ?? id : id;
                if (level == 0)
                {
                    level = HeadingLevelFromName(id) is var l1 and > 0 ? l1 : HeadingLevelFromName(name);
                    if (level == 0 && (IsTitleName(id) || IsTitleName(name)))
                    {
                        level = 1;
                        isTitle = true;
                    }
                }

                if (style is null)
                {
                    break;
                }

                outline ??= style.StyleParagraphProperties?.OutlineLevel?.Val?.Value;
                if (!numbered && style.StyleParagraphProperties?.NumberingProperties is { } snp && snp.NumberingId?.Val?.Value != 0)
                {
                    numbered = true;
                }

                if (name.Contains("List", StringComparison.OrdinalIgnoreCase) && name.Contains("Bullet", StringComparison.OrdinalIgnoreCase))
                {
                    numbered = true;
                }

                id = style.BasedOn?.Val?.Value;
            }

            if (level == 0 && outline is >= 0 and < 9)
            {
                level = outline.Value + 1;
            }

            return (level, isTitle, numbered && level == 0);
        }

        private static bool IsTitleName(string name) => name.Equals("Title", StringComparison.OrdinalIgnoreCase);

        private static int HeadingLevelFromName(string name)
        {
            var n = name.Replace(" ", string.Empty, StringComparison.Ordinal);
            if (n.Length == 8 && n.StartsWith("heading", StringComparison.OrdinalIgnoreCase) && n[7] is >= '1' and <= '9')
            {
                return n[7] - '0';
            }

            return 0;
        }
    }
}
