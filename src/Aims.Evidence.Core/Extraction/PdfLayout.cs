using UglyToad.PdfPig.Content;

namespace Aims.Evidence.Core.Extraction;

/// <summary>
/// Layout analysis of one page of horizontal text, near-linear in the number of words (sorts and small sweep
/// windows, no nearest-neighbour search):
/// <list type="number">
/// <item>Lines: consecutive words of the content stream on the same baseline band with a plausible gap form a line
/// segment; a smaller word slightly above or below the baseline (superscript, subscript) stays with its line. The
/// segments are then swept top to bottom and those on one band that touch horizontally are merged, which repairs
/// pages whose stream order is not line order.</item>
/// <item>Blocks: swept top to bottom again, a line joins the open block whose last line is just above it, overlaps it
/// horizontally and has about the same font size, when the gap is at most a little over the page's usual line
/// spacing; a wider gap, a column change (no horizontal overlap) or a size change starts a new block.</item>
/// <item>Reading order: blocks in the order their first word was drawn, which is the author's order in the
/// documents we see (column by column); see <see cref="GetBlocks"/>.</item>
/// </list>
/// </summary>
internal static class PdfLayout
{
    /// <summary>Widest gap between consecutive words of the stream that still joins them, in font sizes.</summary>
    private const double StreamGap = 2.5;

    /// <summary>Widest gap at which segments drawn apart in the stream are joined, in font sizes (stricter: columns).</summary>
    private const double MergeGap = 0.6;

    /// <summary>The key of the page-wide line gap limit (per font size) among the per-size limits (in points).</summary>
    private const int DefaultKey = -1;

    /// <summary>Blocks of a page in reading order, each with its lines top to bottom and each line's words left to right.</summary>
    public static List<Block> GetBlocks(IReadOnlyList<Word> words)
    {
        if (words.Count == 0)
        {
            return [];
        }

        var lines = MergeSegments(StreamSegments(words));
        var blocks = GroupBlocks(lines);
        blocks.Sort((a, b) => a.Order.CompareTo(b.Order));
        return blocks;
    }

    /// <summary>Pass 1: consecutive words of the stream that continue the current line segment.</summary>
    private static List<Line> StreamSegments(IReadOnlyList<Word> words)
    {
        var lines = new List<Line>();
        Line? current = null;
        for (var i = 0; i < words.Count; i++)
        {
            var word = new Line(words[i], i);
            if (current is not null && current.CanJoin(word, StreamGap))
            {
                current.Absorb(word);
                continue;
            }

            current = word;
            lines.Add(current);
        }

        return lines;
    }

    /// <summary>Pass 2: segments sorted top to bottom; one that sits on the band of a line just seen and touches it joins it.</summary>
    private static List<Line> MergeSegments(List<Line> segments)
    {
        segments.Sort(TopToBottom);
        var result = new List<Line>(segments.Count);
        var active = new List<Line>();
        foreach (var segment in segments)
        {
            active.RemoveAll(a => a.Baseline - segment.Baseline > a.Size);
            Line? target = null;
            foreach (var a in active)
            {
                if (a.CanJoin(segment, MergeGap))
                {
                    target = a;
                    break;
                }
            }

            if (target is null)
            {
                active.Add(segment);
                result.Add(segment);
            }
            else
            {
                target.Absorb(segment);
            }
        }

        foreach (var line in result)
        {
            line.Finish();
        }

        result.Sort(TopToBottom);
        return result;
    }

    /// <summary>Lines (top to bottom) into blocks: each joins the nearest open block whose last line is just above it.</summary>
    private static List<Block> GroupBlocks(List<Line> lines)
    {
        var spacing = LineSpacing(lines);
        var blocks = new List<Block>();
        var open = new List<Block>();
        foreach (var line in lines)
        {
            open.RemoveAll(b => b.Last.Baseline - line.Baseline > 3 * Math.Max(b.Last.Size, line.Size));
            Block? best = null;
            var bestGap = double.MaxValue;
            foreach (var block in open)
            {
                var last = block.Last;
                var size = Math.Max(last.Size, line.Size);
                var gap = last.Baseline - line.Baseline;
                if (gap > 0.5 * size && gap <= GapLimit(spacing, line.Size) && gap < bestGap &&
                    Math.Abs(last.Size - line.Size) <= 0.15 * size && Overlap(last, line) > 0)
                {
                    best = block;
                    bestGap = gap;
                }
            }

            if (best is null)
            {
                best = new Block();
                blocks.Add(best);
                open.Add(best);
            }

            best.Add(line);
        }

        return blocks;
    }

    /// <summary>
    /// The widest baseline gap at which a line still continues the block above, per font size (in half points): a
    /// little over the page's usual distance between the baselines of a line and the overlapping line of the same size
    /// just above it (in whole points, the smallest distance seen at least twice and at least a quarter as often as the
    /// most common one). A size with no such distance uses the page's most common ratio of that distance to the font
    /// size (1.2 when the page has too few pairs at all).
    /// </summary>
    private static Dictionary<int, double> LineSpacing(List<Line> lines)
    {
        var bySize = new Dictionary<int, Dictionary<int, int>>();
        var ratios = new Dictionary<int, int>();
        var recent = new List<Line>();
        foreach (var line in lines)
        {
            recent.RemoveAll(r => r.Baseline - line.Baseline > 3 * Math.Max(r.Size, line.Size));
            var nearest = double.MaxValue;
            foreach (var r in recent)
            {
                var size = Math.Max(r.Size, line.Size);
                var gap = r.Baseline - line.Baseline;
                if (gap > 0.5 * size && gap < nearest && Math.Abs(r.Size - line.Size) <= 0.15 * size && Overlap(r, line) > 0)
                {
                    nearest = gap;
                }
            }

            recent.Add(line);
            if (nearest == double.MaxValue)
            {
                continue;
            }

            var key = SizeKey(line.Size);
            if (!bySize.TryGetValue(key, out var gaps))
            {
                bySize[key] = gaps = [];
            }

            var bin = (int)Math.Round(nearest);
            gaps[bin] = gaps.GetValueOrDefault(bin) + 1;
            var ratio = (int)Math.Round(nearest / Math.Max(line.Size, 1) * 20);
            ratios[ratio] = ratios.GetValueOrDefault(ratio) + 1;
        }

        var limits = new Dictionary<int, double>();
        foreach (var (key, gaps) in bySize)
        {
            // The smallest common gap: lines within a paragraph are closer than paragraphs, which may be more frequent.
            var most = gaps.Values.Max();
            var common = gaps.Where(kv => kv.Value >= Math.Max(2, most / 4.0)).Select(kv => kv.Key).DefaultIfEmpty(-1).Min();
            if (common > 0)
            {
                limits[key] = common * 1.15 + 0.05 * key;
            }
        }

        var pageRatio = ratios.Count == 0 ? default : ratios.MaxBy(kv => (kv.Value, -kv.Key));
        limits[DefaultKey] = (pageRatio.Value >= 2 ? pageRatio.Key / 20.0 : 1.2) * 1.15 + 0.1;
        return limits;
    }

    private static int SizeKey(double size) => (int)Math.Round(size * 2);

    private static double GapLimit(Dictionary<int, double> limits, double size) =>
        limits.TryGetValue(SizeKey(size), out var limit) ? limit : limits[DefaultKey] * size;

    private static double Overlap(Line a, Line b) => Math.Min(a.Right, b.Right) - Math.Max(a.Left, b.Left);

    private static int TopToBottom(Line a, Line b)
    {
        var c = b.Baseline.CompareTo(a.Baseline);
        return c != 0 ? c : a.Left.CompareTo(b.Left);
    }

    /// <summary>A text line: its words left to right, the baseline and size of its main (largest) words, its box.</summary>
    internal sealed class Line
    {
        private List<Word>? _words;
        private readonly Word? _single;

        internal Line(Word word, int order)
        {
            _single = word;
            Order = order;
            var box = word.BoundingBox;
            Left = box.Left;
            Right = box.Right;
            Top = box.Top;
            Bottom = box.Bottom;
            Baseline = word.Letters.Count > 0 ? word.Letters[0].StartBaseLine.Y : box.Bottom;
            var size = 0.0;
            foreach (var letter in word.Letters)
            {
                size = Math.Max(size, letter.PointSize);
            }

            Size = size > 0 ? size : Math.Max(1, box.Height);
        }

        /// <summary>A line laid out by someone else (PdfPig's analysis of rotated pages).</summary>
        internal Line(IReadOnlyList<Word> words, string text, double top, double bottom)
        {
            _words = [.. words];
            Text = text;
            Top = top;
            Bottom = bottom;
        }

        public IReadOnlyList<Word> Words => _words ?? (IReadOnlyList<Word>)[_single!];

        public string Text { get; private set; } = string.Empty;

        public int Order { get; private set; }

        public double Left { get; private set; }

        public double Right { get; private set; }

        public double Top { get; private set; }

        public double Bottom { get; private set; }

        public double Baseline { get; private set; }

        public double Size { get; private set; }

        /// <summary>
        /// Whether <paramref name="other"/> continues this line: on the same baseline band (or a smaller script just
        /// above or below it, either way round) and beside it, not over it, at most <paramref name="gap"/> sizes away.
        /// </summary>
        public bool CanJoin(Line other, double gap)
        {
            var size = Math.Max(Size, other.Size);
            var dy = other.Baseline - Baseline;
            var band = Math.Abs(dy) <= 0.2 * size ||
                       (other.Size <= 0.85 * Size && dy >= -0.4 * Size && dy <= 0.6 * Size) ||
                       (Size <= 0.85 * other.Size && -dy >= -0.4 * other.Size && -dy <= 0.6 * other.Size);
            if (!band)
            {
                return false;
            }

            var tolerance = 0.3 * size;
            var distance = Math.Max(other.Left - Right, Left - other.Right);
            var beside = other.Left >= Right - tolerance || other.Right <= Left + tolerance;
            return beside && distance <= gap * size;
        }

        public void Absorb(Line other)
        {
            _words ??= [_single!];
            _words.AddRange(other.Words);
            Order = Math.Min(Order, other.Order);
            Left = Math.Min(Left, other.Left);
            Right = Math.Max(Right, other.Right);
            Top = Math.Max(Top, other.Top);
            Bottom = Math.Min(Bottom, other.Bottom);
            if (other.Size > Size * 1.15)
            {
                Size = other.Size;
                Baseline = other.Baseline; // the line so far was a script (a footnote number before the text)
            }
        }

        /// <summary>Sorts the words left to right and builds the text.</summary>
        public void Finish()
        {
            if (_words is { Count: > 1 })
            {
                _words.Sort((a, b) => a.BoundingBox.Left.CompareTo(b.BoundingBox.Left));
            }

            Text = _words is null ? _single!.Text : string.Join(' ', _words.Select(w => w.Text));
        }
    }

    /// <summary>A block (paragraph) of lines top to bottom; ordered by the first word drawn.</summary>
    internal sealed class Block
    {
        private readonly List<Line> _lines = [];

        public Block()
        {
        }

        public Block(IEnumerable<Line> lines) => _lines.AddRange(lines);

        public IReadOnlyList<Line> Lines => _lines;

        public Line Last => _lines[^1];

        public int Order { get; private set; } = int.MaxValue;

        public void Add(Line line)
        {
            _lines.Add(line);
            Order = Math.Min(Order, line.Order);
        }
    }
}
