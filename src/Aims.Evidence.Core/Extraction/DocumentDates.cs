using System.Globalization;
using System.Text.RegularExpressions;

namespace Aims.Evidence.Core.Extraction;

/// <summary>A date a document states about itself, and where it was found (e.g. "\"Last updated\" on page 1", "PDF modification date").</summary>
public sealed record StatedDate(DateOnly Date, string Source);

/// <summary>
/// The date a document took effect, from the document itself: file metadata (PDF and Office), labelled dates ("Last
/// updated: November 2019", "Effective date: 1 March 2025", front matter "date: 2024-03-01"), version lines ("Version
/// 2.1, March 2024") and revision tables. The latest credible date wins; dates after today or before 1990 are ignored.
/// A month without a day counts as its first day.
/// </summary>
public static partial class DocumentDates
{
    private static readonly DateOnly Earliest = new(1990, 1, 1);

    /// <summary>How far into the text labelled dates are looked for (title pages, headers, front matter).</summary>
    private const int HeadChars = 6000;

    private static readonly string[] Months =
        ["january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november", "december"];

    public static StatedDate? Find(ExtractedDocument document, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(document);
        var today = DateOnly.FromDateTime(now.UtcDateTime);
        var candidates = new List<StatedDate>(document.MetadataDates);
        var head = document.Text.Length > HeadChars ? document.Text[..HeadChars] : document.Text;
        foreach (Match m in LabelledDate().Matches(head))
        {
            if (ParseDate(m.Groups["date"].Value) is { } d)
            {
                candidates.Add(new StatedDate(d, $"\"{Label(m.Groups["label"].Value)}\" in the text"));
            }
        }

        foreach (Match m in VersionDate().Matches(head))
        {
            if (ParseDate(m.Groups["date"].Value) is { } d)
            {
                candidates.Add(new StatedDate(d, "version line in the text"));
            }
        }

        // Revision or version history tables, wherever they are: the newest row's date.
        var inHistory = false;
        foreach (var block in document.Blocks)
        {
            if (block.Kind == BlockKind.Heading)
            {
                inHistory = HistoryHeading().IsMatch(block.Text);
                continue;
            }

            if (inHistory && block.Kind == BlockKind.TableRow)
            {
                foreach (Match m in AnyDate().Matches(block.Text))
                {
                    if (ParseDate(m.Value) is { } d)
                    {
                        candidates.Add(new StatedDate(d, "revision history table"));
                    }
                }
            }
        }

        return candidates.Where(c => c.Date >= Earliest && c.Date <= today)
            .OrderByDescending(c => c.Date).ThenBy(c => c.Source, StringComparer.Ordinal).FirstOrDefault();
    }

    /// <summary>Metadata dates of an Office package (core properties), named by the package kind ("DOCX", "XLSX", "PPTX").</summary>
    public static IReadOnlyList<StatedDate> FromMetadata(string kind, DateTime? modified, DateTime? created)
    {
        var list = new List<StatedDate>(2);
        if (modified is { } m)
        {
            list.Add(new StatedDate(DateOnly.FromDateTime(m), $"{kind} modification date"));
        }

        if (created is { } c)
        {
            list.Add(new StatedDate(DateOnly.FromDateTime(c), $"{kind} creation date"));
        }

        return list;
    }

    /// <summary>Parses one date: ISO (2024-03-12, 2024/03/12, 2024-03), "12 March 2024", "March 12, 2024", "March 2024", "Mar. 2024".</summary>
    public static DateOnly? ParseDate(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var t = text.Trim().TrimEnd('.', ',');
        var iso = IsoDate().Match(t);
        if (iso.Success)
        {
            var day = iso.Groups["d"].Success ? int.Parse(iso.Groups["d"].Value, CultureInfo.InvariantCulture) : 1;
            return Make(int.Parse(iso.Groups["y"].Value, CultureInfo.InvariantCulture), int.Parse(iso.Groups["m"].Value, CultureInfo.InvariantCulture), day);
        }

        var words = WordDate().Match(t);
        if (words.Success && MonthOf(words.Groups["month"].Value) is { } month)
        {
            var dayText = words.Groups["d1"].Success ? words.Groups["d1"].Value : words.Groups["d2"].Value;
            var day = dayText.Length > 0 ? int.Parse(dayText, CultureInfo.InvariantCulture) : 1;
            return Make(int.Parse(words.Groups["y"].Value, CultureInfo.InvariantCulture), month, day);
        }

        return null;
    }

    private static DateOnly? Make(int year, int month, int day) =>
        month is >= 1 and <= 12 && day >= 1 && day <= DateTime.DaysInMonth(Math.Clamp(year, 1, 9999), month) && year is >= 1 and <= 9999
            ? new DateOnly(year, month, day)
            : null;

    private static int? MonthOf(string word)
    {
        var w = word.TrimEnd('.').ToLowerInvariant();
        if (w.Length < 3)
        {
            return null;
        }

        var i = Array.FindIndex(Months, m => m.StartsWith(w, StringComparison.Ordinal));
        return i < 0 ? null : i + 1;
    }

    private static string Label(string label) => char.ToUpperInvariant(label[0]) + label[1..].ToLowerInvariant();

    private const string DatePattern =
        @"(?:\d{4}[-/.]\d{1,2}(?:[-/.]\d{1,2})?|\d{1,2}(?:st|nd|rd|th)?\s+(?:of\s+)?[A-Za-z]{3,9}\.?,?\s+\d{4}|[A-Za-z]{3,9}\.?\s+(?:\d{1,2}(?:st|nd|rd|th)?,?\s+)?\d{4})";

    [GeneratedRegex(@"(?<label>last\s+updated|last\s+revised|last\s+modified|last\s+reviewed|updated|revised|effective\s+(?:date|from)|date\s+of\s+(?:issue|approval|publication)|issue\s+date|issued(?:\s+on)?|published(?:\s+on)?|approved(?:\s+on)?|version\s+date|release\s+date|(?<![a-z]\s)date)\s*(?:[:\-–—=|]\s*|\s+(?:on\s+)?)\**\s*(?<date>" + DatePattern + ")", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 1000)]
    private static partial Regex LabelledDate();

    [GeneratedRegex(@"\b(?:version|v|rev(?:ision)?)\.?\s*\d+(?:\.\d+){0,3}\s*[,(\-–—|]\s*(?<date>" + DatePattern + ")", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 1000)]
    private static partial Regex VersionDate();

    [GeneratedRegex(DatePattern, RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 1000)]
    private static partial Regex AnyDate();

    [GeneratedRegex(@"\b(?:revision|version|change|document|amendment)\s+(?:history|log|record|control)\b|\bchangelog\b", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 1000)]
    private static partial Regex HistoryHeading();

    [GeneratedRegex(@"^(?<y>\d{4})[-/.](?<m>\d{1,2})(?:[-/.](?<d>\d{1,2}))?$", RegexOptions.CultureInvariant)]
    private static partial Regex IsoDate();

    [GeneratedRegex(@"^(?:(?<d1>\d{1,2})(?:st|nd|rd|th)?\s+(?:of\s+)?(?<month>[A-Za-z]{3,9}\.?),?\s+(?<y>\d{4})|(?<month>[A-Za-z]{3,9}\.?)\s+(?:(?<d2>\d{1,2})(?:st|nd|rd|th)?,?\s+)?(?<y>\d{4}))$", RegexOptions.CultureInvariant)]
    private static partial Regex WordDate();
}
