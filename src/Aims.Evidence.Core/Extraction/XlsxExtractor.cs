using DocumentFormat.OpenXml.Packaging;
using DocumentFormat.OpenXml.Spreadsheet;

namespace Aims.Evidence.Core.Extraction;

/// <summary>
/// XLSX (Open XML SDK): each sheet is a page headed by its name; the first row of two or more short labels is the
/// header; every later non-empty row is a table row "Header: value; Header: value" with that header as context.
/// </summary>
public sealed class XlsxExtractor : IDocumentExtractor
{
    public IReadOnlyCollection<string> MediaTypes { get; } = [Extraction.MediaTypes.Xlsx];

    public Task<ExtractedDocument> ExtractAsync(ReadOnlyMemory<byte> content, ExtractionContext context, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(context);
        var doc = OpenXmlPackages.Open(content, "XLSX", context.Limits, static (stream, settings) => SpreadsheetDocument.Open(stream, false, settings));

        using (doc)
        {
            var workbookPart = doc.WorkbookPart ?? throw new DocumentRejectedException(RejectionKind.Invalid, "not a valid XLSX (no workbook)");
            var shared = workbookPart.SharedStringTablePart?.SharedStringTable?.Elements<SharedStringItem>()
                .Select(SharedText).ToArray() ?? [];
            var builder = new LayoutBuilder();
            var page = 0;
            foreach (var sheet in workbookPart.Workbook?.Sheets?.Elements<Sheet>() ?? [])
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (sheet.Id?.Value is not { } relId || workbookPart.GetPartById(relId) is not WorksheetPart worksheetPart)
                {
                    continue; // chart sheets and the like
                }

                page++;
                if (page > context.Limits.MaxPages)
                {
                    throw new DocumentRejectedException(RejectionKind.Invalid, $"the XLSX has more than {context.Limits.MaxPages} sheets");
                }

                builder.Heading(sheet.Name?.Value ?? $"Sheet {page}", 1, page);
                AddSheet(worksheetPart, shared, builder, page, context.Limits, cancellationToken);
            }

            var title = doc.PackageProperties.Title;
            return Task.FromResult(builder.Build(context.MediaType, Math.Max(1, page), string.IsNullOrWhiteSpace(title) ? null : title.Trim()) with
            {
                MetadataDates = DocumentDates.FromMetadata("XLSX", doc.PackageProperties.Modified, doc.PackageProperties.Created),
            });
        }
    }

    private static void AddSheet(WorksheetPart part, string[] shared, LayoutBuilder builder, int page, ExtractionLimits limits, CancellationToken ct)
    {
        IReadOnlyList<string>? header = null;
        var key = -1;
        var number = 0;
        var sheetData = part.Worksheet?.GetFirstChild<SheetData>();
        if (sheetData is null)
        {
            return;
        }

        foreach (var row in sheetData.Elements<Row>())
        {
            ct.ThrowIfCancellationRequested();
            number = row.RowIndex?.Value is { } index and > 0 and < int.MaxValue ? (int)index : number + 1;
            var cells = new List<string>();
            foreach (var cell in row.Elements<Cell>())
            {
                var column = ColumnIndex(cell.CellReference?.Value) ?? cells.Count;
                if (column > 16384)
                {
                    continue;
                }

                while (cells.Count < column)
                {
                    cells.Add(string.Empty);
                }

                var value = TextNormalizer.CollapseWhitespace(CellText(cell, shared));
                if (cells.Count == column)
                {
                    cells.Add(value);
                }
                else
                {
                    cells[column] = value;
                }
            }

            var filled = cells.Count(c => c.Length > 0);
            if (filled == 0)
            {
                continue;
            }

            if (header is null)
            {
                if (filled >= 2 && cells.All(c => c.Length == 0 || (c.Length <= 80 && c.Any(char.IsLetter))))
                {
                    header = cells; // the first row of short labels
                    key = CsvExtractor.KeyColumn(header);
                    builder.TableRow(string.Join(" | ", cells.Where(c => c.Length > 0)), null, page, number, null);
                }
                else if (filled >= 2)
                {
                    builder.TableRow(string.Join(" | ", cells.Where(c => c.Length > 0)), null, page, number, null);
                }
                else
                {
                    builder.Paragraph(cells.First(c => c.Length > 0), page);
                }

                continue;
            }

            builder.TableRow(CsvExtractor.RowText(header, cells), header, page, number, CsvExtractor.RowKey(cells, key));
            if (builder.Count > limits.MaxBlocks)
            {
                throw new DocumentRejectedException(RejectionKind.Invalid, $"the XLSX has more than {limits.MaxBlocks} rows");
            }
        }
    }

    private static string SharedText(SharedStringItem item)
    {
        if (item.Text is { } text)
        {
            return text.Text;
        }

        return string.Concat(item.Elements<Run>().Select(r => r.Text?.Text ?? string.Empty));
    }

    private static string CellText(Cell cell, string[] shared)
    {
        var type = cell.DataType?.Value;
        if (type == CellValues.InlineString)
        {
            var inline = cell.InlineString;
            if (inline is null)
            {
                return cell.CellValue?.Text ?? string.Empty;
            }

            return inline.Text?.Text ?? string.Concat(inline.Elements<Run>().Select(r => r.Text?.Text ?? string.Empty));
        }

        var raw = cell.CellValue?.Text ?? string.Empty;
        if (type == CellValues.SharedString)
        {
            return int.TryParse(raw, out var index) && index >= 0 && index < shared.Length ? shared[index] : string.Empty;
        }

        if (type == CellValues.Boolean)
        {
            return raw == "1" ? "TRUE" : "FALSE";
        }

        return raw;
    }

    private static int? ColumnIndex(string? reference)
    {
        if (string.IsNullOrEmpty(reference))
        {
            return null;
        }

        var index = 0;
        var any = false;
        foreach (var c in reference)
        {
            if (c is >= 'A' and <= 'Z')
            {
                index = (index * 26) + (c - 'A' + 1);
                any = true;
            }
            else if (c is >= 'a' and <= 'z')
            {
                index = (index * 26) + (c - 'a' + 1);
                any = true;
            }
            else
            {
                break;
            }

            if (index > 20000)
            {
                return 20000;
            }
        }

        return any ? index - 1 : null;
    }
}
