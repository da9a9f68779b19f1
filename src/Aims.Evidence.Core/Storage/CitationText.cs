namespace Aims.Evidence.Core.Storage;

/// <summary>
/// The one way a passage is cited to a person: "policy.pdf, p. 3, § 4.2 Roles" for paged documents and
/// "inventory.csv, sheet 1, rows 12-14, Biomedical Citation Selector" for table rows (the row's identifying value
/// is the passage's last heading).
/// </summary>
public static class CitationText
{
    public static string Of(string documentName, int page, IReadOnlyList<string> headings, int? rowStart = null, int? rowEnd = null)
    {
        ArgumentNullException.ThrowIfNull(headings);
        var last = headings.Count > 0 ? headings[^1] : null;
        if (rowStart is { } first)
        {
            var end = rowEnd ?? first;
            var rows = end > first ? $"rows {first}-{end}" : $"row {first}";
            return $"{documentName}, sheet {page}, {rows}{(last is null ? string.Empty : ", " + last)}";
        }

        return $"{documentName}, p. {page}{(last is null ? string.Empty : ", \u00a7 " + last)}";
    }

    public static string Of(DocumentRecord document, PassageRecord passage)
    {
        ArgumentNullException.ThrowIfNull(document);
        ArgumentNullException.ThrowIfNull(passage);
        return Of(document.Name, passage.Page, passage.Headings, passage.RowStart, passage.RowEnd);
    }
}
