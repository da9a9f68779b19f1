using System.Text.RegularExpressions;
using UglyToad.PdfPig;
using UglyToad.PdfPig.Content;
using UglyToad.PdfPig.DocumentLayoutAnalysis;
using UglyToad.PdfPig.DocumentLayoutAnalysis.PageSegmenter;
using UglyToad.PdfPig.DocumentLayoutAnalysis.ReadingOrderDetector;
using UglyToad.PdfPig.DocumentLayoutAnalysis.WordExtractor;
using UglyToad.PdfPig.Exceptions;

namespace Aims.Evidence.Core.Extraction;

/// <summary>
/// PDF: PdfPig parses the pages and their glyphs; the layout analysis is ours and near-linear in the glyphs of a page.
/// Per page: glyphs drawn twice at one spot are dropped (<see cref="Deduplicate"/>); consecutive glyphs of the
/// content stream form words (<see cref="GetWords"/>); words form lines, lines form blocks, and blocks are read in
/// the order they were drawn (<see cref="PdfLayout"/>). Each block is split into regions where the font size or
/// weight changes between its lines. Over the document: headings from font size and weight relative to the body
/// text; de-hyphenation; running headers/footers and page numbers dropped; paragraphs broken by a page or column
/// joined. Pages with rotated or skewed text keep PdfPig's nearest-neighbour words, Docstrum blocks and
/// unsupervised reading order.
/// </summary>
public sealed partial class PdfExtractor : IDocumentExtractor
{
    private const double MarginZone = 0.12;

    public IReadOnlyCollection<string> MediaTypes { get; } = [Extraction.MediaTypes.Pdf];

    public Task<ExtractedDocument> ExtractAsync(ReadOnlyMemory<byte> content, ExtractionContext context, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(context);
        var bytes = content.ToArray();
        CheckComplete(bytes);
        PdfDocument document;
        try
        {
            document = PdfDocument.Open(bytes, new ParsingOptions { UseLenientParsing = true });
        }
        catch (PdfDocumentEncryptedException ex)
        {
            throw new DocumentRejectedException(RejectionKind.Invalid, "The PDF is password-protected (encrypted); it cannot be read without the password.", ex);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            throw new DocumentRejectedException(RejectionKind.Invalid, $"the PDF is corrupt and could not be opened: {Short(ex.Message)}", ex);
        }

        using (document)
        {
            if (document.IsEncrypted && document.NumberOfPages == 0)
            {
                throw new DocumentRejectedException(RejectionKind.Invalid, "The PDF is password-protected (encrypted); it cannot be read without the password.");
            }

            var pageCount = document.NumberOfPages;
            if (pageCount > context.Limits.MaxPages)
            {
                throw new DocumentRejectedException(RejectionKind.Invalid, $"the PDF has {pageCount} pages, over the limit of {context.Limits.MaxPages}");
            }

            if (pageCount == 0)
            {
                throw new DocumentRejectedException(RejectionKind.Invalid, "the PDF has no pages");
            }

            var regions = new List<Region>();
            var sizeHistogram = new Dictionary<double, int>();
            var boldLetters = 0;
            var totalLetters = 0;
            for (var p = 1; p <= pageCount; p++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                Page page;
                try
                {
                    page = document.GetPage(p);
                }
                catch (PdfDocumentEncryptedException ex)
                {
                    throw new DocumentRejectedException(RejectionKind.Invalid, "The PDF is password-protected (encrypted); it cannot be read without the password.", ex);
                }

                foreach (var letter in page.Letters)
                {
                    if (string.IsNullOrWhiteSpace(letter.Value))
                    {
                        continue;
                    }

                    totalLetters++;
                    var size = Math.Round(letter.PointSize * 2) / 2;
                    sizeHistogram[size] = sizeHistogram.GetValueOrDefault(size) + 1;
                    if (IsBold(letter))
                    {
                        boldLetters++;
                    }
                }

                regions.AddRange(PageRegions(page, p));
            }

            if (totalLetters < Math.Max(20, 5 * pageCount))
            {
                throw new DocumentRejectedException(RejectionKind.Invalid, "no text layer (scanned PDF?); OCR needs Document Intelligence");
            }

            var bodySize = sizeHistogram.OrderByDescending(kv => kv.Value).First().Key;
            var bodyIsBold = boldLetters > totalLetters / 2;
            var vocabulary = BuildVocabulary(regions);
            DropRunningHeadersAndFooters(regions, pageCount);
            return Task.FromResult(Build(regions, bodySize, bodyIsBold, vocabulary, context, pageCount, document));
        }
    }

    private static ExtractedDocument Build(List<Region> regions, double bodySize, bool bodyIsBold, HashSet<string> vocabulary,
        ExtractionContext context, int pageCount, PdfDocument document)
    {
        // Heading candidates: short regions set larger than the body, or bold when the body is not.
        MergeSectionNumbers(regions);
        var headingSizes = new SortedSet<double>(Comparer<double>.Create((a, b) => b.CompareTo(a)));
        foreach (var r in regions)
        {
            r.IsHeading = IsHeadingCandidate(r, bodySize, bodyIsBold);
            if (r.IsHeading)
            {
                headingSizes.Add(Math.Round(r.Size * 2) / 2);
            }
        }

        MergeContinuations(regions);
        var sizes = headingSizes.ToList();
        var builder = new LayoutBuilder();
        string? title = null;
        double? titleSize = null;
        var pendingBullet = false;
        foreach (var r in regions)
        {
            if (r.Dropped)
            {
                continue;
            }

            var text = JoinLines(r.Lines, vocabulary);
            if (r.Size < bodySize * 0.75 && text.Length <= 4 && !text.Any(char.IsLetter))
            {
                continue; // a stray superscript (footnote reference) split off from its line
            }

            if (BulletOnly().IsMatch(text))
            {
                pendingBullet = true;
                continue;
            }

            if (r.IsHeading)
            {
                var level = Math.Min(6, sizes.IndexOf(Math.Round(r.Size * 2) / 2) + 1);
                builder.Heading(text, Math.Max(1, level), r.Page);
                if (r.Page == 1 && (titleSize is null || r.Size > titleSize.Value * 1.05))
                {
                    title = TextNormalizer.CollapseWhitespace(text); // the largest heading on the first page
                    titleSize = r.Size;
                }

                pendingBullet = false;
                continue;
            }

            if (pendingBullet || BulletStart().IsMatch(r.Lines[0]))
            {
                foreach (var item in SplitItems(r.Lines))
                {
                    builder.ListItem(JoinLines(item, vocabulary), r.Page);
                }

                pendingBullet = false;
                continue;
            }

            builder.Paragraph(text, r.Page);
            if (builder.Count > context.Limits.MaxBlocks)
            {
                throw new DocumentRejectedException(RejectionKind.Invalid, $"the PDF has more than {context.Limits.MaxBlocks} blocks");
            }
        }

        if (title is null)
        {
            try
            {
                var infoTitle = document.Information.Title;
                title = string.IsNullOrWhiteSpace(infoTitle) ? null : TextNormalizer.CollapseWhitespace(infoTitle);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                title = null;
            }
        }

        return builder.Build(context.MediaType, pageCount, title) with { MetadataDates = PdfDates(document) };
    }

    /// <summary>The information dictionary's dates; a malformed one is ignored (it is only metadata).</summary>
    private static List<StatedDate> PdfDates(PdfDocument document)
    {
        try
        {
            var list = new List<StatedDate>(2);
            if (document.Information.GetModifiedDateTimeOffset() is { } modified)
            {
                list.Add(new StatedDate(DateOnly.FromDateTime(modified.UtcDateTime), "PDF modification date"));
            }

            if (document.Information.GetCreatedDateTimeOffset() is { } created)
            {
                list.Add(new StatedDate(DateOnly.FromDateTime(created.UtcDateTime), "PDF creation date"));
            }

            return list;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            return [];
        }
    }

    private static IEnumerable<List<string>> SplitItems(List<string> lines)
    {
        var current = new List<string>();
        foreach (var line in lines)
        {
            if (BulletStart().IsMatch(line) && current.Count > 0)
            {
                yield return current;
                current = [];
            }

            current.Add(BulletGlyph().Replace(line, string.Empty, 1));
        }

        if (current.Count > 0)
        {
            yield return current;
        }
    }

    private static bool IsHeadingCandidate(Region r, double bodySize, bool bodyIsBold)
    {
        var text = string.Join(' ', r.Lines);
        if (r.Lines.Count > 3 || text.Length > 160 || text.Length < 2 || !text.Any(char.IsLetter))
        {
            return false;
        }

        if (r.Size >= bodySize * 1.15)
        {
            return true;
        }

        return !bodyIsBold && r.BoldShare > 0.9 && r.Size >= bodySize * 0.95 && r.Lines.Count <= 2 && text.Length <= 100 &&
               !text.TrimEnd().EndsWith('.') && !text.TrimEnd().EndsWith(',');
    }

    /// <summary>Blocks of one page in reading order, each split where the font size or weight changes between lines.</summary>
    private static IEnumerable<Region> PageRegions(Page page, int pageNumber)
    {
        var letters = page.Letters;
        if (letters.Count == 0)
        {
            yield break;
        }

        var words = GetWords(Deduplicate(letters), out var horizontal);
        if (words.Count == 0)
        {
            yield break;
        }

        var ordered = horizontal ? PdfLayout.GetBlocks(words) : RotatedPageBlocks(words);
        var height = page.Height > 0 ? page.Height : 792;
        foreach (var block in ordered)
        {
            Region? current = null;
            foreach (var line in block.Lines)
            {
                var lineLetters = line.Words.SelectMany(w => w.Letters).Where(l => !string.IsNullOrWhiteSpace(l.Value)).ToList();
                if (lineLetters.Count == 0)
                {
                    continue;
                }

                var size = Median(lineLetters.Select(l => l.PointSize));
                var bold = lineLetters.Count(IsBold) / (double)lineLetters.Count;
                var lineText = FixLigatures(line.Text);
                if (current is not null && size < current.Size * 0.85 && lineText.Length <= 4 && !lineText.Any(char.IsLetter))
                {
                    continue; // a superscript footnote marker set on its own baseline inside a paragraph
                }

                if (current is not null && Math.Abs(size - current.Size) <= current.Size * 0.1 && Math.Abs(bold - current.BoldShare) < 0.5)
                {
                    current.Lines.Add(lineText);
                    current.Top = Math.Max(current.Top, line.Top);
                    current.Bottom = Math.Min(current.Bottom, line.Bottom);
                    continue;
                }

                if (current is not null)
                {
                    yield return current;
                }

                current = new Region(pageNumber, height, size, bold, [lineText], line.Top, line.Bottom);
            }

            if (current is not null)
            {
                yield return current;
            }
        }
    }

    /// <summary>
    /// Words of a page. In a horizontal text layer the next letter of a word is almost always the next glyph drawn, so
    /// words are cut from consecutive letters of the content stream in one linear pass (PdfPig's nearest-neighbour
    /// extractor finds the same neighbours with a k-d tree search per letter, a third of our extraction time). A drawn
    /// space always ends a word. Without one, a word ends where the next glyph leaves the baseline or the line, or where
    /// the gap after a glyph's advance exceeds <see cref="WordBreakEm"/> of the point size above the line's usual
    /// letter gap: typeset text (LaTeX and the like) draws no space glyphs and its word gaps, squeezed by justification,
    /// go down to a fifth of an em, while letters sit within a few hundredths of an em of each other; letter-spaced text
    /// raises the usual gap and with it the cut. Pages with any non-horizontal glyph keep the nearest-neighbour extractor.
    /// </summary>
    internal static List<Word> GetWords(List<Letter> letters, out bool horizontal)
    {
        horizontal = true;
        foreach (var letter in letters)
        {
            if (letter.TextOrientation != TextOrientation.Horizontal && !string.IsNullOrWhiteSpace(letter.Value))
            {
                horizontal = false;
                return NearestNeighbourWordExtractor.Instance.GetWords(letters).ToList();
            }
        }

        var words = new List<Word>();
        var run = new List<Letter>();
        var spaceBefore = new List<bool>();
        var pendingSpace = false;
        foreach (var letter in letters)
        {
            if (string.IsNullOrWhiteSpace(letter.Value))
            {
                pendingSpace = true;
                continue;
            }

            if (run.Count > 0 && !SameLine(run[^1], letter))
            {
                SplitRun(run, spaceBefore, words);
                run.Clear();
                spaceBefore.Clear();
            }

            spaceBefore.Add(run.Count > 0 && pendingSpace);
            run.Add(letter);
            pendingSpace = false;
        }

        SplitRun(run, spaceBefore, words);
        return words;
    }

    /// <summary>A word break is a gap this many ems wider than the line's usual gap between letters (poppler uses 0.1 em).</summary>
    internal const double WordBreakEm = 0.1;

    /// <summary>Gap between two glyphs in ems of the larger point size (advance end of the first to start of the second).</summary>
    private static double GapEm(Letter a, Letter b) => (b.StartBaseLine.X - a.EndBaseLine.X) / Math.Max(1, Math.Max(a.PointSize, b.PointSize));

    private static bool IsWordChar(Letter l) => l.Value.Length > 0 && char.IsLetterOrDigit(l.Value[0]);

    /// <summary>Consecutive glyphs on one baseline, the second starting at most an em before or after the first's end.</summary>
    private static bool SameLine(Letter a, Letter b)
    {
        var em = Math.Max(1, Math.Max(a.PointSize, b.PointSize));
        var gap = GapEm(a, b);
        return Math.Abs(b.StartBaseLine.Y - a.EndBaseLine.Y) <= 0.2 * em && gap >= -0.5 && gap <= 1.0;
    }

    /// <summary>Cuts one line run into words: at drawn spaces and at gaps above the run's usual letter gap plus <see cref="WordBreakEm"/>.</summary>
    private static void SplitRun(List<Letter> run, List<bool> spaceBefore, List<Word> words)
    {
        if (run.Count == 0)
        {
            return;
        }

        var gaps = new double[run.Count];
        var usual = new List<double>(run.Count);
        for (var i = 1; i < run.Count; i++)
        {
            gaps[i] = GapEm(run[i - 1], run[i]);
            if (!spaceBefore[i] && IsWordChar(run[i - 1]) && IsWordChar(run[i]))
            {
                usual.Add(gaps[i]); // between letters and digits only: dot leaders of a contents line are spaced out
            }
        }

        // The lower quartile of a line's gaps between letters is a letter gap (a line has several letters per word gap);
        // letter-spaced text moves it up. Lines of a few glyphs have no usual gap to speak of.
        usual.Sort();
        var cut = WordBreakEm + (usual.Count < 4 ? 0 : Math.Max(0, usual[usual.Count / 4]));
        var current = new List<Letter> { run[0] };
        for (var i = 1; i < run.Count; i++)
        {
            // Some generators justify lines by spreading the gap after a hyphen too ("risk-based"): there the cut stays
            // at a fifth of an em, the rule before the gap-based cut existed.
            var limit = run[i - 1].Value is "-" or "\u2010" or "\u2011" ? Math.Max(cut, 2 * WordBreakEm) : cut;
            if (spaceBefore[i] || gaps[i] > limit)
            {
                words.Add(new Word(current));
                current = [];
            }

            current.Add(run[i]);
        }

        words.Add(new Word(current));
    }

    /// <summary>Pages with rotated or skewed text keep PdfPig's Docstrum blocks and unsupervised reading order.</summary>
    private static List<PdfLayout.Block> RotatedPageBlocks(List<Word> words)
    {
        var blocks = DocstrumBoundingBoxes.Instance.GetBlocks(words);
        return UnsupervisedReadingOrderDetector.Instance.Get(blocks)
            .Select(b => new PdfLayout.Block(b.TextLines.Select(l => new PdfLayout.Line(l.Words, l.Text, l.BoundingBox.Top, l.BoundingBox.Bottom))))
            .ToList();
    }

    /// <summary>
    /// Drops glyphs drawn twice at (nearly) the same spot, a common fake-bold/shadow effect. Kept glyphs are indexed
    /// by their whole-point cell (a chain per cell); a glyph is a duplicate of a kept one with the same value in its own
    /// or a neighbouring cell that starts within a tolerance of it.
    /// </summary>
    private static List<Letter> Deduplicate(IReadOnlyList<Letter> letters)
    {
        var heads = new Dictionary<long, int>(letters.Count);
        var kept = new List<Letter>(letters.Count);
        var next = new List<int>(letters.Count);
        var result = new List<Letter>(letters.Count);
        foreach (var letter in letters)
        {
            if (string.IsNullOrWhiteSpace(letter.Value))
            {
                result.Add(letter);
                continue;
            }

            var x = (long)Math.Floor(letter.StartBaseLine.X);
            var y = (long)Math.Floor(letter.StartBaseLine.Y);
            var tolerance = Math.Max(0.2, Math.Min(1.5, letter.Width * 0.3));
            var duplicate = false;
            for (var dx = -1; dx <= 1 && !duplicate; dx++)
            {
                for (var dy = -1; dy <= 1 && !duplicate; dy++)
                {
                    if (!heads.TryGetValue(Cell(x + dx, y + dy), out var i))
                    {
                        continue;
                    }

                    for (; i >= 0 && !duplicate; i = next[i])
                    {
                        var o = kept[i];
                        duplicate = o.Value == letter.Value && Math.Abs(o.StartBaseLine.X - letter.StartBaseLine.X) < tolerance &&
                                    Math.Abs(o.StartBaseLine.Y - letter.StartBaseLine.Y) < tolerance;
                    }
                }
            }

            if (duplicate)
            {
                continue;
            }

            var cell = Cell(x, y);
            next.Add(heads.TryGetValue(cell, out var head) ? head : -1);
            kept.Add(letter);
            heads[cell] = kept.Count - 1;
            result.Add(letter);
        }

        return result;
    }

    private static long Cell(long x, long y) => (x << 32) ^ (y & 0xFFFFFFFF);

    /// <summary>A bare section number ("1.2.1") set apart from its title on the same baseline is joined to the title.</summary>
    private static void MergeSectionNumbers(List<Region> regions)
    {
        for (var i = 0; i + 1 < regions.Count; i++)
        {
            var a = regions[i];
            if (a.Dropped || a.Lines.Count != 1 || !SectionNumber().IsMatch(a.Lines[0].Trim()))
            {
                continue;
            }

            var b = regions.Skip(i + 1).FirstOrDefault(r => !r.Dropped);
            if (b is null || b.Page != a.Page || b.Bottom > a.Top || b.Top < a.Bottom || b.Lines[0].Trim().Length == 0)
            {
                continue;
            }

            // b's first line shares a's baseline band: it is the title that follows the number.
            b.Lines[0] = a.Lines[0].Trim() + " " + b.Lines[0].Trim();
            a.Dropped = true;
        }
    }

    /// <summary>
    /// Joins a paragraph broken by a page or column change: body text that does not end a sentence followed by
    /// body text of the same size starting in lower case.
    /// </summary>
    private static void MergeContinuations(List<Region> regions)
    {
        Region? previous = null;
        foreach (var r in regions)
        {
            if (r.Dropped || r.IsHeading)
            {
                if (r.IsHeading)
                {
                    previous = null;
                }

                continue;
            }

            if (previous is not null && r.Page - previous.Page <= 1 && Math.Abs(r.Size - previous.Size) <= previous.Size * 0.1 &&
                previous.Lines[^1].TrimEnd() is { Length: > 0 } last && !".!?:;".Contains(last[^1], StringComparison.Ordinal) &&
                r.Lines[0].TrimStart() is { Length: > 0 } first && char.IsLower(first[0]) && !BulletStart().IsMatch(first))
            {
                previous.Lines.AddRange(r.Lines);
                r.Dropped = true;
                continue;
            }

            previous = r;
        }
    }

    private static void DropRunningHeadersAndFooters(List<Region> regions, int pageCount)
    {
        var threshold = pageCount >= 5 ? 3 : 2;
        var byKey = new Dictionary<string, HashSet<int>>();
        foreach (var r in regions)
        {
            var text = string.Join(' ', r.Lines).Trim();
            if (!r.InMargin)
            {
                continue;
            }

            if (PageNumber().IsMatch(text))
            {
                r.Dropped = true;
                continue;
            }

            var key = Digits().Replace(text.ToLowerInvariant(), "#");
            if (!byKey.TryGetValue(key, out var pages))
            {
                byKey[key] = pages = [];
            }

            pages.Add(r.Page);
        }

        if (pageCount < 2)
        {
            return;
        }

        foreach (var r in regions)
        {
            if (!r.InMargin || r.Dropped)
            {
                continue;
            }

            var key = Digits().Replace(string.Join(' ', r.Lines).Trim().ToLowerInvariant(), "#");
            if (byKey.TryGetValue(key, out var pages) && pages.Count >= threshold)
            {
                r.Dropped = true;
            }
        }
    }

    private static HashSet<string> BuildVocabulary(List<Region> regions)
    {
        var vocabulary = new HashSet<string>(StringComparer.Ordinal);
        foreach (var line in regions.SelectMany(r => r.Lines))
        {
            foreach (var word in line.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            {
                var w = word.Trim(',', '.', ';', ':', '(', ')', '"', '\'', '\u201C', '\u201D', '\u2019').ToLowerInvariant();
                if (w.Length > 1 && !w.EndsWith('-'))
                {
                    vocabulary.Add(w);
                }
            }
        }

        return vocabulary;
    }

    /// <summary>
    /// Joins lines (<see cref="TextTools.JoinLines"/>); a word split by a hyphen at a line end is rejoined unless the
    /// document itself writes the hyphenated form and never the joined one.
    /// </summary>
    private static string JoinLines(List<string> lines, HashSet<string> vocabulary) =>
        TextTools.JoinLines(lines, (head, tail) =>
        {
            var h = head.ToLowerInvariant();
            var t = tail.ToLowerInvariant();
            return vocabulary.Contains($"{h}-{t}") && !vocabulary.Contains(h + t);
        });

    private static void CheckComplete(byte[] bytes)
    {
        var tail = bytes.AsSpan(Math.Max(0, bytes.Length - 4096));
        if (tail.IndexOf("%%EOF"u8) < 0)
        {
            throw new DocumentRejectedException(RejectionKind.Invalid, "the PDF is truncated or corrupt (no end-of-file marker)");
        }
    }

    private static bool IsBold(Letter letter) =>
        letter.FontDetails is { } font && (font.IsBold || font.Weight >= 600 || (font.Name?.Contains("Bold", StringComparison.OrdinalIgnoreCase) ?? false) ||
                                    (font.Name?.Contains("Black", StringComparison.OrdinalIgnoreCase) ?? false) ||
                                    (font.Name?.Contains("Heavy", StringComparison.OrdinalIgnoreCase) ?? false) ||
                                    (font.Name?.Contains("Semibold", StringComparison.OrdinalIgnoreCase) ?? false) ||
                                    (font.Name?.Contains("Demi", StringComparison.OrdinalIgnoreCase) ?? false) ||
                                    (font.Name?.Contains("-Medi", StringComparison.OrdinalIgnoreCase) ?? false));

    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.OrderBy(v => v).ToArray();
        return sorted.Length == 0 ? 0 : sorted[sorted.Length / 2];
    }

    private static string FixLigatures(string text)
    {
        foreach (var c in text)
        {
            if (c is >= '\uFB00' and <= '\uFB06')
            {
                return text.Normalize(System.Text.NormalizationForm.FormKC);
            }
        }

        return text;
    }

    private static string Short(string message)
    {
        var m = TextNormalizer.CollapseWhitespace(message);
        return m.Length > 200 ? m[..200] + "..." : m;
    }

    [GeneratedRegex(@"^(?:page\s+)?(?:\d{1,4}|[ivxlcdm]{1,7})(?:\s*(?:of|/)\s*\d{1,4})?$", RegexOptions.IgnoreCase)]
    private static partial Regex PageNumber();

    [GeneratedRegex(@"\d+")]
    private static partial Regex Digits();

    [GeneratedRegex(@"^(?:\d{1,2}(?:\.\d{1,2}){0,4}\.?|[A-Z]\.(?:\d{1,2}(?:\.\d{1,2}){0,3})?|[IVX]{1,4}\.)$")]
    private static partial Regex SectionNumber();

    [GeneratedRegex(@"^[\s•●○◦▪■□►▶‣⁃∙·\-–—*]+$")]
    private static partial Regex BulletOnly();

    [GeneratedRegex(@"^\s*(?:[•●○◦▪■□►▶‣⁃∙·]|[-–*]\s)")]
    private static partial Regex BulletStart();

    [GeneratedRegex(@"^\s*[•●○◦▪■□►▶‣⁃∙·\-–*]\s*")]
    private static partial Regex BulletGlyph();

    private sealed class Region(int page, double pageHeight, double size, double boldShare, List<string> lines, double top, double bottom)
    {
        public int Page { get; } = page;

        public double Size { get; } = size;

        public double BoldShare { get; } = boldShare;

        public List<string> Lines { get; } = lines;

        public double Top { get; set; } = top;

        public double Bottom { get; set; } = bottom;

        public bool InMargin => Bottom > pageHeight * (1 - MarginZone) || Top < pageHeight * MarginZone;

        public bool IsHeading { get; set; }

        public bool Dropped { get; set; }
    }
}
