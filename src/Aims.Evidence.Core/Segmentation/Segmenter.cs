using System.Text;
using Aims.Evidence.Core.Extraction;

namespace Aims.Evidence.Core.Segmentation;

public sealed record SegmenterOptions
{
    /// <summary>Below this many words a passage keeps absorbing the next block under the same heading.</summary>
    public int MinWords { get; init; } = 40;

    /// <summary>A passage being merged stops growing at this many words.</summary>
    public int TargetWords { get; init; } = 160;

    /// <summary>No passage exceeds this many words: longer blocks are split at sentence boundaries.</summary>
    public int MaxWords { get; init; } = 300;

    /// <summary>
    /// No passage exceeds this many characters, whatever its words: a run without word breaks (a 50 MB line of
    /// letters, an embedded blob) is cut at the last space in reach or, without one, at this length, so no later
    /// stage (classification, mapping, embeddings, the index) ever sees a giant string.
    /// </summary>
    public int MaxChars { get; init; } = 4000;
}

/// <summary>
/// Splits a document's layout into passages of about 40-300 words. A passage never crosses a heading, keeps
/// its heading path, page and character span; a table row becomes a passage of its own, with its header.
/// </summary>
public sealed class Segmenter(SegmenterOptions? options = null)
{
    private readonly SegmenterOptions _options = options ?? new SegmenterOptions();

    public IReadOnlyList<Passage> Segment(ExtractedDocument document)
    {
        ArgumentNullException.ThrowIfNull(document);
        var passages = new List<Passage>();
        var headingStack = new List<(int Level, string Text)>();
        var pending = new List<LayoutBlock>();
        var pendingWords = 0;

        foreach (var block in document.Blocks)
        {
            switch (block.Kind)
            {
                case BlockKind.Heading:
                    Flush();
                    while (headingStack.Count > 0 && headingStack[^1].Level >= block.HeadingLevel)
                    {
                        headingStack.RemoveAt(headingStack.Count - 1);
                    }

                    headingStack.Add((block.HeadingLevel, block.Text));
                    break;

                case BlockKind.TableRow:
                    Flush();
                    EmitSplit([block], RowText(block));
                    break;

                default:
                    var words = CountWords(block.Text);
                    if (pending.Count > 0 && (pendingWords >= _options.MinWords || pendingWords + words > _options.TargetWords))
                    {
                        Flush();
                    }

                    pending.Add(block);
                    pendingWords += words;
                    break;
            }
        }

        Flush();
        return passages;

        void Flush()
        {
            if (pending.Count == 0)
            {
                return;
            }

            var text = string.Join("\n", pending.Select(b => b.Text));
            EmitSplit(pending.ToArray(), text);
            pending.Clear();
            pendingWords = 0;
        }

        void EmitSplit(IReadOnlyList<LayoutBlock> blocks, string text)
        {
            var first = blocks[0];
            // A spreadsheet row carries its identifying value as its last heading, so every chunk of it can be cited.
            string[] headings = first.RowKey is { } key && (headingStack.Count == 0 || headingStack[^1].Text != key)
                ? [.. headingStack.Select(h => h.Text), key]
                : [.. headingStack.Select(h => h.Text)];
            int? rowStart = first.Row > 0 ? first.Row : null;
            int? rowEnd = blocks[^1].Row > 0 ? blocks[^1].Row : rowStart;
            var last = blocks[^1];
            var start = first.Start;
            var length = last.Start + last.Length - first.Start;
            var kind = blocks.All(b => b.Kind == first.Kind) ? first.Kind : BlockKind.Paragraph;
            var chunks = SplitToMax(text, _options.MaxWords, _options.MaxChars).ToArray();
            var cursor = start;
            foreach (var chunk in chunks)
            {
                // A chunk of a split block gets its own span when its characters can be followed through the text;
                // otherwise (a table row's header prefix is not in the text) it keeps the span of the whole group.
                var (chunkStart, chunkLength) = (start, length);
                if (chunks.Length > 1 && Locate(document.Text, cursor, start + length, chunk) is { } found)
                {
                    (chunkStart, chunkLength) = found;
                    cursor = found.Start + found.Length;
                }

                passages.Add(new Passage(passages.Count, chunk, first.Page, headings, chunkStart, chunkLength, kind) { RowStart = rowStart, RowEnd = rowStart is null ? null : rowEnd });
            }
        }
    }

    /// <summary>
    /// Follows <paramref name="chunk"/>'s non-whitespace characters through <paramref name="text"/> from
    /// <paramref name="from"/> (whitespace runs on either side are skipped): the chunk's span, or null on a mismatch.
    /// </summary>
    internal static (int Start, int Length)? Locate(string text, int from, int end, string chunk)
    {
        end = Math.Min(end, text.Length);
        var t = from;
        var begin = -1;
        foreach (var c in chunk)
        {
            if (char.IsWhiteSpace(c))
            {
                continue;
            }

            while (t < end && char.IsWhiteSpace(text[t]))
            {
                t++;
            }

            if (t >= end || text[t] != c)
            {
                return null;
            }

            if (begin < 0)
            {
                begin = t;
            }

            t++;
        }

        return begin < 0 ? null : (begin, t - begin);
    }

    private static string RowText(LayoutBlock row)
    {
        // Rows whose extractor already wrote "Header: value" pairs keep their text; otherwise the header is prepended.
        if (row.TableHeader is not { Count: > 0 } header || row.Text.Contains(header[0] + ":", StringComparison.Ordinal))
        {
            return row.Text;
        }

        return "[" + string.Join(" | ", header) + "] " + row.Text;
    }

    internal static int CountWords(string text)
    {
        var count = 0;
        var inWord = false;
        foreach (var c in text)
        {
            if (char.IsWhiteSpace(c))
            {
                inWord = false;
            }
            else if (!inWord)
            {
                inWord = true;
                count++;
            }
        }

        return count;
    }

    /// <summary>
    /// Splits text longer than <paramref name="maxWords"/> words or <paramref name="maxChars"/> characters into
    /// balanced chunks at sentence ends where possible; a sentence over the limits is cut at word breaks, and a run
    /// without word breaks at <paramref name="maxChars"/>. Linear in the text: no per-word strings are built.
    /// </summary>
    internal static IEnumerable<string> SplitToMax(string text, int maxWords, int maxChars = int.MaxValue)
    {
        var total = CountWords(text);
        if (total <= maxWords && text.Length <= maxChars)
        {
            yield return text;
            yield break;
        }

        var parts = Math.Max(1, (int)Math.Ceiling(total / (double)maxWords));
        var target = Math.Max(1, (int)Math.Ceiling(total / (double)parts));
        var sentences = SplitSentences(text);
        var current = new StringBuilder();
        var currentWords = 0;
        foreach (var sentence in sentences)
        {
            var words = CountWords(sentence);
            if (words > maxWords || sentence.Length > maxChars)
            {
                if (current.Length > 0)
                {
                    yield return current.ToString().Trim();
                    current.Clear();
                    currentWords = 0;
                }

                foreach (var piece in CutWords(sentence, target, maxChars))
                {
                    yield return piece;
                }

                continue;
            }

            if (currentWords > 0 && (currentWords + (words / 2.0) > target || currentWords + words > maxWords || current.Length + sentence.Length + 1 > maxChars))
            {
                yield return current.ToString().Trim();
                current.Clear();
                currentWords = 0;
            }

            current.Append(sentence).Append(' ');
            currentWords += words;
        }

        if (current.Length > 0)
        {
            yield return current.ToString().Trim();
        }
    }

    /// <summary>
    /// Cuts one over-long sentence into pieces of at most <paramref name="words"/> words and <paramref name="maxChars"/>
    /// characters, at word breaks; a run without a break longer than <paramref name="maxChars"/> is cut at that length
    /// (never inside a surrogate pair). Whitespace inside a piece becomes single spaces.
    /// </summary>
    internal static IEnumerable<string> CutWords(string sentence, int words, int maxChars)
    {
        var piece = new StringBuilder();
        var count = 0;
        var i = 0;
        while (i < sentence.Length)
        {
            while (i < sentence.Length && char.IsWhiteSpace(sentence[i]))
            {
                i++;
            }

            if (i >= sentence.Length)
            {
                break;
            }

            var start = i;
            while (i < sentence.Length && !char.IsWhiteSpace(sentence[i]))
            {
                i++;
            }

            // The word [start, i): appended whole when it fits, otherwise the piece is emitted first; a word longer
            // than a piece is emitted in slices of maxChars.
            var length = i - start;
            var needed = piece.Length == 0 ? length : piece.Length + 1 + length;
            if (piece.Length > 0 && (count >= words || needed > maxChars))
            {
                yield return piece.ToString();
                piece.Clear();
                count = 0;
            }

            while (length > maxChars)
            {
                var cut = maxChars;
                if (char.IsHighSurrogate(sentence[start + cut - 1]))
                {
                    cut--;
                }

                yield return sentence.Substring(start, cut);
                start += cut;
                length -= cut;
            }

            if (piece.Length > 0)
            {
                piece.Append(' ');
            }

            piece.Append(sentence, start, length);
            count++;
        }

        if (piece.Length > 0)
        {
            yield return piece.ToString();
        }
    }

    private static List<string> SplitSentences(string text)
    {
        var result = new List<string>();
        var start = 0;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            var end = c == '\n' || ((c == '.' || c == '?' || c == '!' || c == ';') && i + 1 < text.Length && text[i + 1] == ' ');
            if (end)
            {
                result.Add(text[start..(i + 1)].Trim());
                start = i + 1;
            }
        }

        if (start < text.Length)
        {
            result.Add(text[start..].Trim());
        }

        result.RemoveAll(s => s.Length == 0);
        return result;
    }
}
