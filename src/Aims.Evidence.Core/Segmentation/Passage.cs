using Aims.Evidence.Core.Extraction;

namespace Aims.Evidence.Core.Segmentation;

/// <summary>A paragraph-sized unit of evidence: never crosses a heading; keeps its heading path, page and span.</summary>
public sealed record Passage(
    int Ordinal,
    string Text,
    int Page,
    IReadOnlyList<string> Headings,
    int Start,
    int Length,
    BlockKind Kind)
{
    public int WordCount => Text.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length;

    /// <summary>For a table row of a spreadsheet or CSV file: its first and last row number; else null.</summary>
    public int? RowStart { get; init; }

    public int? RowEnd { get; init; }
}
