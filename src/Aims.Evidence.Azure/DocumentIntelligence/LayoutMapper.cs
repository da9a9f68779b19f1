using System.Text.Json;
using Aims.Evidence.Core.Extraction;

namespace Aims.Evidence.Azure.DocumentIntelligence;

/// <summary>
/// Maps a Document Intelligence <c>analyzeResult</c> (layout model) onto our layout blocks, in reading order:
/// paragraphs with role <c>title</c> become level-1 headings, <c>sectionHeading</c> level-2 headings; page
/// headers, footers and numbers are dropped; other paragraphs become paragraphs; each table becomes one
/// <see cref="BlockKind.TableRow"/> per body row with its column headers as context. Paragraphs that lie
/// inside a table's span (the service lists cell text as paragraphs too) are not repeated.
/// </summary>
public static class LayoutMapper
{
    private sealed record Item(int Offset, Action<LayoutBuilder> Emit);

    public static ExtractedDocument Map(JsonElement analyzeResult, string mediaType, ExtractionLimits? limits = null)
    {
        limits ??= ExtractionLimits.Default;
        var pageCount = analyzeResult.TryGetProperty("pages", out var pages) && pages.ValueKind == JsonValueKind.Array
            ? pages.GetArrayLength()
            : 0;
        if (pageCount > limits.MaxPages)
        {
            throw new DocumentRejectedException(RejectionKind.Invalid, $"The document has {pageCount} pages; the limit is {limits.MaxPages}.");
        }

        var items = new List<Item>();
        var tableSpans = new List<(int Start, int End)>();
        string? title = null;

        if (analyzeResult.TryGetProperty("tables", out var tables) && tables.ValueKind == JsonValueKind.Array)
        {
            foreach (var table in tables.EnumerateArray())
            {
                var spans = Spans(table);
                tableSpans.AddRange(spans);
                var offset = spans.Count > 0 ? spans.Min(s => s.Start) : int.MaxValue;
                var rows = TableRows(table);
                items.Add(new Item(offset, b =>
                {
                    foreach (var (text, header, page) in rows)
                    {
                        b.TableRow(text, header, page);
                    }
                }));
            }
        }

        if (analyzeResult.TryGetProperty("paragraphs", out var paragraphs) && paragraphs.ValueKind == JsonValueKind.Array)
        {
            var ordinal = 0;
            foreach (var paragraph in paragraphs.EnumerateArray())
            {
                ordinal++;
                var role = paragraph.TryGetProperty("role", out var r) ? r.GetString() : null;
                if (role is "pageHeader" or "pageFooter" or "pageNumber")
                {
                    continue;
                }

                var content = paragraph.TryGetProperty("content", out var c) ? c.GetString() ?? string.Empty : string.Empty;
                if (string.IsNullOrWhiteSpace(content))
                {
                    continue;
                }

                var spans = Spans(paragraph);
                if (spans.Count > 0 && spans.All(s => tableSpans.Any(t => s.Start >= t.Start && s.End <= t.End)))
                {
                    continue;
                }

                var page = FirstPage(paragraph);
                var offset = spans.Count > 0 ? spans.Min(s => s.Start) : int.MaxValue - 1;
                switch (role)
                {
                    case "title":
                        title ??= TextNormalizer.CollapseWhitespace(content);
                        items.Add(new Item(offset, b => b.Heading(content, 1, page)));
                        break;
                    case "sectionHeading":
                        items.Add(new Item(offset, b => b.Heading(content, 2, page)));
                        break;
                    default:
                        items.Add(new Item(offset, b => b.Paragraph(content, page)));
                        break;
                }
            }
        }

        var builder = new LayoutBuilder();

        // OrderBy is stable: items without spans keep the order the service listed them in.
        foreach (var item in items.OrderBy(i => i.Offset))
        {
            item.Emit(builder);
            if (builder.Count > limits.MaxBlocks)
            {
                throw new DocumentRejectedException(RejectionKind.Invalid, $"The document has more than {limits.MaxBlocks} blocks.");
            }
        }

        return builder.Build(mediaType, pageCount > 0 ? pageCount : null, title);
    }

    private static List<(string Text, IReadOnlyList<string>? Header, int Page)> TableRows(JsonElement table)
    {
        var rows = new SortedDictionary<int, SortedDictionary<int, string>>();
        var header = new SortedDictionary<int, string>();
        var headerRows = new HashSet<int>();
        var rowPages = new Dictionary<int, int>();
        var tablePage = FirstPage(table);

        if (table.TryGetProperty("cells", out var cells) && cells.ValueKind == JsonValueKind.Array)
        {
            foreach (var cell in cells.EnumerateArray())
            {
                var row = cell.TryGetProperty("rowIndex", out var ri) ? ri.GetInt32() : 0;
                var column = cell.TryGetProperty("columnIndex", out var ci) ? ci.GetInt32() : 0;
                var kind = cell.TryGetProperty("kind", out var k) ? k.GetString() : "content";
                var text = TextNormalizer.CollapseWhitespace(cell.TryGetProperty("content", out var c) ? c.GetString() ?? string.Empty : string.Empty);
                if (kind == "columnHeader")
                {
                    headerRows.Add(row);
                    header[column] = header.TryGetValue(column, out var existing) && existing.Length > 0 && text.Length > 0
                        ? existing + " " + text
                        : existing is { Length: > 0 } ? existing : text;
                    continue;
                }

                if (!rows.TryGetValue(row, out var values))
                {
                    rows[row] = values = new SortedDictionary<int, string>();
                }

                values[column] = text;
                if (!rowPages.ContainsKey(row))
                {
                    rowPages[row] = FirstPage(cell, tablePage);
                }
            }
        }

        IReadOnlyList<string>? headerList = header.Count > 0 ? header.Values.ToArray() : null;
        var result = new List<(string, IReadOnlyList<string>?, int)>();
        foreach (var (row, values) in rows)
        {
            if (headerRows.Contains(row) && values.Values.All(v => v.Length == 0))
            {
                continue;
            }

            var text = string.Join(" | ", values.Values.Where(v => v.Length > 0));
            if (text.Length > 0)
            {
                result.Add((text, headerList, rowPages.GetValueOrDefault(row, tablePage)));
            }
        }

        return result;
    }

    private static List<(int Start, int End)> Spans(JsonElement element)
    {
        var list = new List<(int, int)>();
        if (element.TryGetProperty("spans", out var spans) && spans.ValueKind == JsonValueKind.Array)
        {
            foreach (var span in spans.EnumerateArray())
            {
                var offset = span.TryGetProperty("offset", out var o) ? o.GetInt32() : 0;
                var length = span.TryGetProperty("length", out var l) ? l.GetInt32() : 0;
                list.Add((offset, offset + length));
            }
        }

        return list;
    }

    private static int FirstPage(JsonElement element, int fallback = 1)
    {
        if (element.TryGetProperty("boundingRegions", out var regions) && regions.ValueKind == JsonValueKind.Array)
        {
            foreach (var region in regions.EnumerateArray())
            {
                if (region.TryGetProperty("pageNumber", out var p) && p.TryGetInt32(out var page))
                {
                    return page;
                }
            }
        }

        return fallback;
    }
}
