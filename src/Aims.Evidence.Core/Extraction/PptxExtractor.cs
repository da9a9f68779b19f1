using DocumentFormat.OpenXml;
using DocumentFormat.OpenXml.Packaging;
using A = DocumentFormat.OpenXml.Drawing;
using P = DocumentFormat.OpenXml.Presentation;

namespace Aims.Evidence.Core.Extraction;

/// <summary>PPTX (Open XML SDK): slides are pages; the title placeholder is a heading; other text in shape order.</summary>
public sealed class PptxExtractor : IDocumentExtractor
{
    public IReadOnlyCollection<string> MediaTypes { get; } = [Extraction.MediaTypes.Pptx];

    public Task<ExtractedDocument> ExtractAsync(ReadOnlyMemory<byte> content, ExtractionContext context, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(context);
        var doc = OpenXmlPackages.Open(content, "PPTX", context.Limits, static (stream, settings) => PresentationDocument.Open(stream, false, settings));

        using (doc)
        {
            var presentationPart = doc.PresentationPart ?? throw new DocumentRejectedException(RejectionKind.Invalid, "not a valid PPTX (no presentation part)");
            var slideIds = presentationPart.Presentation?.SlideIdList?.Elements<P.SlideId>().ToList() ?? [];
            if (slideIds.Count > context.Limits.MaxPages)
            {
                throw new DocumentRejectedException(RejectionKind.Invalid, $"the PPTX has {slideIds.Count} slides, over the limit of {context.Limits.MaxPages}");
            }

            var builder = new LayoutBuilder();
            string? title = null;
            var page = 0;
            foreach (var slideId in slideIds)
            {
                cancellationToken.ThrowIfCancellationRequested();
                page++;
                if (slideId.RelationshipId?.Value is not { } relId || presentationPart.GetPartById(relId) is not SlidePart slidePart)
                {
                    continue;
                }

                var tree = slidePart.Slide?.CommonSlideData?.ShapeTree;
                if (tree is not null)
                {
                    var slideTitle = AddShapes(tree, builder, page);
                    title ??= slideTitle;
                }
            }

            var coreTitle = doc.PackageProperties.Title;
            return Task.FromResult(builder.Build(context.MediaType, Math.Max(1, page), string.IsNullOrWhiteSpace(coreTitle) ? title : coreTitle.Trim()) with
            {
                MetadataDates = DocumentDates.FromMetadata("PPTX", doc.PackageProperties.Modified, doc.PackageProperties.Created),
            });
        }
    }

    /// <summary>Adds the shapes of a shape tree in order, through group shapes without recursion; returns the first title.</summary>
    private static string? AddShapes(OpenXmlElement container, LayoutBuilder builder, int page)
    {
        string? title = null;
        var stack = new Stack<IEnumerator<OpenXmlElement>>();
        stack.Push(container.ChildElements.GetEnumerator());
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
                case P.Shape shape when shape.TextBody is not null:
                    var placeholder = shape.NonVisualShapeProperties?.ApplicationNonVisualDrawingProperties?.GetFirstChild<P.PlaceholderShape>();
                    var type = placeholder?.Type?.Value;
                    var isTitle = type == P.PlaceholderValues.Title || type == P.PlaceholderValues.CenteredTitle;
                    if (isTitle)
                    {
                        var text = string.Join(' ', shape.TextBody.Elements<A.Paragraph>().Select(ParagraphText));
                        builder.Heading(text, 1, page);
                        title ??= TextNormalizer.CollapseWhitespace(text);
                        break;
                    }

                    if (type == P.PlaceholderValues.SlideNumber || type == P.PlaceholderValues.DateAndTime || type == P.PlaceholderValues.Footer)
                    {
                        break;
                    }

                    var bodyPlaceholder = placeholder is not null && (type is null || type == P.PlaceholderValues.Body || type == P.PlaceholderValues.Object);
                    foreach (var paragraph in shape.TextBody.Elements<A.Paragraph>())
                    {
                        var text = ParagraphText(paragraph);
                        var props = paragraph.ParagraphProperties;
                        var bulleted = props?.GetFirstChild<A.CharacterBullet>() is not null || props?.GetFirstChild<A.AutoNumberedBullet>() is not null ||
                                       (bodyPlaceholder && props?.GetFirstChild<A.NoBullet>() is null);
                        if (type == P.PlaceholderValues.SubTitle)
                        {
                            builder.Heading(text, 2, page);
                        }
                        else if (bulleted)
                        {
                            builder.ListItem(text, page);
                        }
                        else
                        {
                            builder.Paragraph(text, page);
                        }
                    }

                    break;
                case P.GroupShape group:
                    stack.Push(group.ChildElements.GetEnumerator());
                    break;
                case P.GraphicFrame frame:
                    foreach (var table in frame.Descendants<A.Table>())
                    {
                        IReadOnlyList<string>? header = null;
                        foreach (var row in table.Elements<A.TableRow>())
                        {
                            var cells = row.Elements<A.TableCell>()
                                .Select(c => TextNormalizer.CollapseWhitespace(string.Join(' ', c.Descendants<A.Paragraph>().Select(ParagraphText))))
                                .ToList();
                            if (cells.All(c => c.Length == 0))
                            {
                                continue;
                            }

                            builder.TableRow(string.Join(" | ", cells.Where(c => c.Length > 0)), header, page);
                            header ??= cells;
                        }
                    }

                    break;
            }
        }

        return title;
    }

    private static string ParagraphText(A.Paragraph paragraph)
    {
        var sb = new System.Text.StringBuilder();
        foreach (var child in paragraph.ChildElements)
        {
            switch (child)
            {
                case A.Run run:
                    sb.Append(run.Text?.Text);
                    break;
                case A.Field field:
                    sb.Append(field.Text?.Text);
                    break;
                case A.Break:
                    sb.Append(' ');
                    break;
            }
        }

        return sb.ToString();
    }
}
