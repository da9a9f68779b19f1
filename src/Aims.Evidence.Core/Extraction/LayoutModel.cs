namespace Aims.Evidence.Core.Extraction;

/// <summary>The kind of a layout block, in document reading order.</summary>
public enum BlockKind
{
    Heading,
    Paragraph,
    ListItem,
    TableRow,
}

/// <summary>
/// One block of a document's layout: a heading (with its level), a paragraph, a list item or a table row
/// (with the header cells that give it context). <see cref="Start"/> and <see cref="Length"/> are a
/// character span in the document's extracted text (<see cref="ExtractedDocument.Text"/>).
/// </summary>
public sealed record LayoutBlock(
    BlockKind Kind,
    string Text,
    int Page,
    int Start,
    int Length,
    int HeadingLevel = 0,
    IReadOnlyList<string>? TableHeader = null)
{
    /// <summary>A table row's spreadsheet row number (the header is row 1 in a CSV file; XLSX keeps its own numbers); 0 elsewhere.</summary>
    public int Row { get; init; }

    /// <summary>A table row's identifying value (its name, title, use case or id column, else its first cell), if any.</summary>
    public string? RowKey { get; init; }
}

/// <summary>The result of extraction: ordered blocks plus the plain text their spans point into.</summary>
public sealed record ExtractedDocument(
    string MediaType,
    IReadOnlyList<LayoutBlock> Blocks,
    int PageCount,
    string? Title = null)
{
    /// <summary>The blocks' text joined by blank lines: the text the block spans index.</summary>
    public string Text { get; init; } = string.Empty;

    /// <summary>Dates from the file's metadata (PDF information dictionary, Office core properties).</summary>
    public IReadOnlyList<StatedDate> MetadataDates { get; init; } = [];
}

/// <summary>
/// Collects blocks in order and keeps the character spans consistent: every block's span indexes the
/// text that <see cref="Build"/> returns. Extractors use it instead of computing offsets themselves.
/// </summary>
public sealed class LayoutBuilder
{
    private readonly List<LayoutBlock> _blocks = [];
    private readonly System.Text.StringBuilder _text = new();

    public int Count => _blocks.Count;

    public int MaxPage { get; private set; }

    public LayoutBuilder Heading(string text, int level, int page = 1) =>
        Add(BlockKind.Heading, text, page, Math.Clamp(level, 1, 9));

    public LayoutBuilder Paragraph(string text, int page = 1) => Add(BlockKind.Paragraph, text, page);

    public LayoutBuilder ListItem(string text, int page = 1) => Add(BlockKind.ListItem, text, page);

    public LayoutBuilder TableRow(string text, IReadOnlyList<string>? header, int page = 1) =>
        Add(BlockKind.TableRow, text, page, 0, header);

    /// <summary>A table row of a spreadsheet or CSV file, with its row number and identifying value.</summary>
    public LayoutBuilder TableRow(string text, IReadOnlyList<string>? header, int page, int row, string? rowKey) =>
        Add(BlockKind.TableRow, text, page, 0, header, row, rowKey);

    public LayoutBuilder Add(BlockKind kind, string text, int page, int headingLevel = 0, IReadOnlyList<string>? header = null, int row = 0, string? rowKey = null)
    {
        var clean = TextNormalizer.CollapseWhitespace(text);
        if (clean.Length == 0)
        {
            return this;
        }

        if (_text.Length > 0)
        {
            _text.Append("\n\n");
        }

        var start = _text.Length;
        _text.Append(clean);
        _blocks.Add(new LayoutBlock(kind, clean, Math.Max(1, page), start, clean.Length, headingLevel, header)
        {
            Row = row,
            RowKey = string.IsNullOrWhiteSpace(rowKey) ? null : rowKey,
        });
        MaxPage = Math.Max(MaxPage, Math.Max(1, page));
        return this;
    }

    public ExtractedDocument Build(string mediaType, int? pageCount = null, string? title = null) =>
        new(mediaType, _blocks.ToArray(), pageCount ?? Math.Max(1, MaxPage), title) { Text = _text.ToString() };
}
