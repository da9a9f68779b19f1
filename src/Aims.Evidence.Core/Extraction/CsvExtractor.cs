using System.Text;

namespace Aims.Evidence.Core.Extraction;

/// <summary>
/// CSV (RFC 4180, with delimiter sniffing among comma, semicolon and tab): the first non-empty row is the header;
/// each later row becomes a table row whose text is "Header: value; Header: value" over its non-empty cells.
/// </summary>
public sealed class CsvExtractor : IDocumentExtractor
{
    public IReadOnlyCollection<string> MediaTypes { get; } = [Extraction.MediaTypes.Csv];

    public Task<ExtractedDocument> ExtractAsync(ReadOnlyMemory<byte> content, ExtractionContext context, CancellationToken cancellationToken = default)
    {
        var text = TextDecoding.Decode(content.Span);
        var delimiter = SniffDelimiter(text);
        var builder = new LayoutBuilder();
        IReadOnlyList<string>? header = null;
        var key = -1;
        var number = 0;
        foreach (var row in Parse(text, delimiter))
        {
            cancellationToken.ThrowIfCancellationRequested();
            number++;
            var cells = row.Select(c => TextNormalizer.CollapseWhitespace(c)).ToArray();
            if (cells.All(c => c.Length == 0))
            {
                continue;
            }

            if (header is null)
            {
                header = cells;
                key = KeyColumn(header);
                continue;
            }

            builder.TableRow(RowText(header, cells), header, 1, number, RowKey(cells, key));
            if (builder.Count > context.Limits.MaxBlocks)
            {
                throw new DocumentRejectedException(RejectionKind.Invalid, $"the CSV file has more than {context.Limits.MaxBlocks} rows");
            }
        }

        if (builder.Count == 0 && header is not null)
        {
            builder.TableRow(string.Join(" | ", header.Where(h => h.Length > 0)), null);
        }

        return Task.FromResult(builder.Build(context.MediaType, 1));
    }

    /// <summary>"Header: value; Header: value" over the non-empty cells (a cell without a header stands alone).</summary>
    /// <summary>
    /// The column that identifies a row, readable names before ids: a header named name, title, system, model or use
    /// case (name), then a name/title header about a use case, system, model or tool, then any other name/title header
    /// that does not name an organisation or person (agency, bureau, vendor, contact...), then id, then one mentioning
    /// "use case" or "id" (leftmost on ties); else the first. Underscores, slashes and hyphens separate words.
    /// </summary>
    public static int KeyColumn(IReadOnlyList<string> header)
    {
        ArgumentNullException.ThrowIfNull(header);
        var best = 0;
        var bestScore = 0;
        for (var i = 0; i < header.Count; i++)
        {
            var words = HeaderWords(header[i]);
            var h = string.Join(' ', words);
            var named = h.EndsWith("name", StringComparison.Ordinal) || h.EndsWith("title", StringComparison.Ordinal);
            var score = h is "name" or "title" or "naam" or "system" or "system name" or "ai system" or "ai system name" or "model" or "model name"
                    or "use case" or "use case name" or "use case title" or "algorithm" or "algorithm name" ? 5
                : named && words.Any(w => w is "use" or "system" or "model" or "application" or "tool" or "algorithm" or "product" or "service" or "project") ? 4
                : named && !words.Any(w => NotTheThing.Contains(w)) ? 3
                : h is "id" or "identifier" ? 2
                : h.Contains("use case", StringComparison.Ordinal) || words.Contains("id") ? 1
                : 0;
            if (score > bestScore)
            {
                (best, bestScore) = (i, score);
            }
        }

        return best;
    }

    /// <summary>A header's words, lower case: underscores, slashes, hyphens, dots and brackets separate them ("Bureau/Component" is two words).</summary>
    public static string[] HeaderWords(string header)
    {
        ArgumentNullException.ThrowIfNull(header);
        return header.Trim().ToLowerInvariant().Split([' ', '_', '-', '/', '(', ')', '.', ':', '\\', '\t'], StringSplitOptions.RemoveEmptyEntries);
    }

    /// <summary>Header words of a name column that names who runs or supplies a system, not the system.</summary>
    private static readonly HashSet<string> NotTheThing = new(StringComparer.Ordinal)
    {
        "agency", "bureau", "component", "department", "office", "organisation", "organization", "organisatie", "unit", "division",
        "vendor", "supplier", "provider", "developer", "contractor", "company", "contact", "owner", "author", "person", "manager",
        "email", "file", "sponsor", "ato",
    };

    /// <summary>The row's identifying value in <paramref name="column"/>, else its first filled cell; at most 80 characters.</summary>
    public static string? RowKey(IReadOnlyList<string> cells, int column)
    {
        ArgumentNullException.ThrowIfNull(cells);
        var value = column >= 0 && column < cells.Count && cells[column].Length > 0 ? cells[column] : cells.FirstOrDefault(c => c.Length > 0);
        return value is null ? null : value.Length <= 80 ? value : value[..77].TrimEnd() + "...";
    }

    public static string RowText(IReadOnlyList<string> header, IReadOnlyList<string> cells)
    {
        var parts = new List<string>();
        for (var i = 0; i < cells.Count; i++)
        {
            if (cells[i].Length == 0)
            {
                continue;
            }

            var name = i < header.Count ? header[i] : string.Empty;
            parts.Add(name.Length > 0 ? $"{name}: {cells[i]}" : cells[i]);
        }

        return string.Join("; ", parts);
    }

    /// <summary>Picks the delimiter that splits the first lines most consistently into more than one field.</summary>
    public static char SniffDelimiter(string text)
    {
        var sample = text.Length > 16384 ? text[..16384] : text;
        var best = ',';
        var bestScore = -1.0;
        foreach (var candidate in new[] { ',', ';', '\t' })
        {
            var rows = Parse(sample, candidate).Take(20).Where(r => r.Count > 0).ToList();
            if (rows.Count > 1 && text.Length > sample.Length)
            {
                rows.RemoveAt(rows.Count - 1); // the sample may cut the last row
            }

            if (rows.Count == 0)
            {
                continue;
            }

            var first = rows[0].Count;
            if (first < 2)
            {
                continue;
            }

            var consistent = rows.Count(r => r.Count == first) / (double)rows.Count;
            var score = consistent * 10 + Math.Min(first, 50) / 50.0;
            if (score > bestScore)
            {
                bestScore = score;
                best = candidate;
            }
        }

        return best;
    }

    /// <summary>RFC 4180 parser: quoted fields may hold delimiters, doubled quotes and line breaks.</summary>
    public static IEnumerable<List<string>> Parse(string text, char delimiter)
    {
        var row = new List<string>();
        var field = new StringBuilder();
        var inQuotes = false;
        var fieldStarted = false;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (inQuotes)
            {
                if (c == '"')
                {
                    if (i + 1 < text.Length && text[i + 1] == '"')
                    {
                        field.Append('"');
                        i++;
                    }
                    else
                    {
                        inQuotes = false;
                    }
                }
                else
                {
                    field.Append(c);
                }

                continue;
            }

            if (c == '"' && field.Length == 0 && !fieldStarted)
            {
                inQuotes = true;
                fieldStarted = true;
            }
            else if (c == delimiter)
            {
                row.Add(field.ToString());
                field.Clear();
                fieldStarted = false;
            }
            else if (c is '\n' or '\r')
            {
                if (c == '\r' && i + 1 < text.Length && text[i + 1] == '\n')
                {
                    i++;
                }

                row.Add(field.ToString());
                field.Clear();
                fieldStarted = false;
                yield return row;
                row = [];
            }
            else
            {
                field.Append(c);
                fieldStarted = true;
            }
        }

        if (field.Length > 0 || row.Count > 0 || fieldStarted)
        {
            row.Add(field.ToString());
            yield return row;
        }
    }
}
