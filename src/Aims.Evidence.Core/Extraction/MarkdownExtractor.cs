using System.Text;
using System.Text.RegularExpressions;
using Markdig;
using Markdig.Extensions.Tables;
using Markdig.Extensions.Yaml;
using Markdig.Parsers;
using Markdig.Syntax;
using Markdig.Syntax.Inlines;

namespace Aims.Evidence.Core.Extraction;

/// <summary>
/// Markdown and MDX (Markdig, advanced extensions): visible text only. Link text is kept, URLs, images, HTML tags
/// and markup characters are dropped; code blocks with a programming language and indented code are dropped, fences without a language are kept as paragraphs (inline code text is kept).
/// MDX import/export lines, JSX component tags (their inner text is kept) and {expressions} are removed first.
/// </summary>
public sealed partial class MarkdownExtractor : IDocumentExtractor
{
    private static readonly MarkdownPipeline Pipeline = new MarkdownPipelineBuilder().UseAdvancedExtensions().UseYamlFrontMatter().Build();

    private static readonly MarkdownPipeline MdxPipeline = BuildMdxPipeline();

    public IReadOnlyCollection<string> MediaTypes { get; } = [Extraction.MediaTypes.Markdown, Extraction.MediaTypes.Mdx];

    public Task<ExtractedDocument> ExtractAsync(ReadOnlyMemory<byte> content, ExtractionContext context, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(context);
        var text = TextDecoding.Decode(content.Span);
        var isMdx = context.MediaType == Extraction.MediaTypes.Mdx;
        if (isMdx)
        {
            text = MdxPreprocessor.Strip(text);
        }

        var document = Markdown.Parse(text, isMdx ? MdxPipeline : Pipeline);
        var builder = new LayoutBuilder();
        string? title = null;
        foreach (var block in document)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (block is YamlFrontMatterBlock yaml)
            {
                title ??= FrontMatterTitle(yaml.Lines.ToString());
                continue;
            }

            AddBlock(block, builder, BlockKind.Paragraph, 0, cancellationToken);
        }

        title ??= builder.Build(context.MediaType).Blocks.FirstOrDefault(b => b.Kind == BlockKind.Heading && b.HeadingLevel == 1)?.Text;
        return Task.FromResult(builder.Build(context.MediaType, 1, title));
    }

    private static MarkdownPipeline BuildMdxPipeline()
    {
        var b = new MarkdownPipelineBuilder().UseAdvancedExtensions().UseYamlFrontMatter();
        b.BlockParsers.TryRemove<IndentedCodeBlockParser>(); // MDX has no indented code; JSX children are often indented
        return b.Build();
    }

    private static void AddBlock(Block block, LayoutBuilder builder, BlockKind paragraphKind, int depth, CancellationToken ct)
    {
        if (depth > 100)
        {
            return; // pathological nesting
        }

        switch (block)
        {
            case HeadingBlock heading:
                builder.Heading(InlineText(heading.Inline), heading.Level);
                break;
            case ParagraphBlock paragraph:
                builder.Add(paragraphKind, InlineText(paragraph.Inline), 1);
                break;
            case ListBlock list:
                foreach (var item in list.OfType<ListItemBlock>())
                {
                    AddListItem(item, builder, depth + 1, ct);
                }

                break;
            case Table table:
                AddTable(table, builder);
                break;
            case HtmlBlock html:
                var fragment = html.Lines.ToString();
                if (html.Type != HtmlBlockType.Comment)
                {
                    HtmlExtractor.AddHtml(fragment, builder, 1, ct);
                }

                break;
            case FencedCodeBlock fenced when IsProseFence(fenced.Info):
                builder.Add(paragraphKind, fenced.Lines.ToString(), 1);
                break;
            case CodeBlock:
            case ThematicBreakBlock:
            case LinkReferenceDefinitionGroup:
                break;
            case ContainerBlock container:
                foreach (var child in container)
                {
                    AddBlock(child, builder, paragraphKind, depth + 1, ct);
                }

                break;
            case LeafBlock leaf when leaf.Inline is not null:
                builder.Add(paragraphKind, InlineText(leaf.Inline), 1);
                break;
        }
    }

    /// <summary>A fence without a language (or marked as text) usually holds sample prose, not code: keep it.</summary>
    private static bool IsProseFence(string? info) =>
        string.IsNullOrWhiteSpace(info) || info.Trim().ToLowerInvariant() is "text" or "txt" or "plain" or "plaintext" or "markdown" or "md";

    private static void AddListItem(ListItemBlock item, LayoutBuilder builder, int depth, CancellationToken ct)
    {
        var text = new StringBuilder();
        foreach (var child in item)
        {
            if (child is ParagraphBlock p)
            {
                text.Append(' ').Append(InlineText(p.Inline));
                continue;
            }

            if (text.Length > 0)
            {
                builder.ListItem(text.ToString());
                text.Clear();
            }

            AddBlock(child, builder, BlockKind.ListItem, depth + 1, ct);
        }

        if (text.Length > 0)
        {
            builder.ListItem(text.ToString());
        }
    }

    private static void AddTable(Table table, LayoutBuilder builder)
    {
        IReadOnlyList<string>? header = null;
        foreach (var row in table.OfType<TableRow>())
        {
            var cells = row.OfType<TableCell>()
                .Select(c => TextNormalizer.CollapseWhitespace(string.Join(' ', c.OfType<LeafBlock>().Select(l => InlineText(l.Inline)))))
                .ToList();
            if (cells.All(c => c.Length == 0))
            {
                continue;
            }

            var text = string.Join(" | ", cells.Where(c => c.Length > 0));
            if (row.IsHeader && header is null)
            {
                header = cells;
                builder.TableRow(text, null);
                continue;
            }

            builder.TableRow(text, header);
        }
    }

    /// <summary>The visible text of inline markup: emphasis markers, URLs, images and tags dropped.</summary>
    internal static string InlineText(ContainerInline? inline)
    {
        var sb = new StringBuilder();
        AppendInline(inline, sb, 0);
        return TextNormalizer.CollapseWhitespace(sb.ToString());
    }

    private static void AppendInline(Inline? inline, StringBuilder sb, int depth)
    {
        if (depth > 200)
        {
            return;
        }

        switch (inline)
        {
            case null:
                return;
            case LinkInline { IsImage: true }:
            case LinkInline { IsAutoLink: true }:
                return; // images and bare URLs carry no prose
            case LiteralInline literal:
                sb.Append(literal.Content.AsSpan());
                return;
            case CodeInline code:
                sb.Append(code.Content);
                return;
            case AutolinkInline:
            case HtmlInline:
                return;
            case HtmlEntityInline entity:
                sb.Append(entity.Transcoded.AsSpan());
                return;
            case LineBreakInline:
                sb.Append(' ');
                return;
            case ContainerInline container:
                foreach (var child in container)
                {
                    AppendInline(child, sb, depth + 1);
                }

                return;
        }
    }

    private static string? FrontMatterTitle(string yaml)
    {
        foreach (var line in yaml.Split('\n'))
        {
            var m = TitleLine().Match(line);
            if (m.Success)
            {
                var value = m.Groups[1].Value.Trim().Trim('"', '\'').Trim();
                return value.Length > 0 ? value : null;
            }
        }

        return null;
    }

    [GeneratedRegex(@"^title\s*:\s*(.+)$", RegexOptions.IgnoreCase)]
    private static partial Regex TitleLine();
}

/// <summary>Removes MDX-only syntax so the rest parses as Markdown: ESM lines, JSX tags and {expressions}.</summary>
internal static partial class MdxPreprocessor
{
    public static string Strip(string text)
    {
        var lines = text.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n');
        var sb = new StringBuilder(text.Length);
        var inFence = false;
        var inEsm = false;
        string? fence = null;
        foreach (var line in lines)
        {
            var trimmed = line.TrimStart();
            if (!inEsm && FenceStart().Match(trimmed) is { Success: true } fm)
            {
                if (!inFence)
                {
                    inFence = true;
                    fence = fm.Value[..3];
                }
                else if (fence is not null && trimmed.StartsWith(fence, StringComparison.Ordinal))
                {
                    inFence = false;
                }

                sb.Append(line).Append('\n');
                continue;
            }

            if (inFence)
            {
                sb.Append(line).Append('\n');
                continue;
            }

            if (inEsm)
            {
                if (trimmed.Length == 0)
                {
                    inEsm = false;
                    sb.Append('\n');
                }

                continue;
            }

            if (EsmLine().IsMatch(line))
            {
                inEsm = !EsmComplete(line);
                continue;
            }

            sb.Append(line).Append('\n');
        }

        return StripJsx(sb.ToString());
    }

    private static bool EsmComplete(string line)
    {
        var t = line.TrimEnd();
        return t.EndsWith(';') || (t.Contains(" from ", StringComparison.Ordinal) && (t.EndsWith('\'') || t.EndsWith('"'))) ||
               (t.Count(c => c == '{') == t.Count(c => c == '}') && !t.EndsWith('{') && !t.EndsWith('(') && !t.EndsWith(',') && !t.EndsWith('='));
    }

    /// <summary>Drops {expressions} and JSX tags (capitalised or namespaced) outside code, keeping text between tags.</summary>
    private static string StripJsx(string text)
    {
        var sb = new StringBuilder(text.Length);
        var inFence = false;
        var atLineStart = true;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (atLineStart && (text.AsSpan(i).TrimStart(' ').StartsWith("```") || text.AsSpan(i).TrimStart(' ').StartsWith("~~~")))
            {
                inFence = !inFence;
            }

            atLineStart = c == '\n';
            if (inFence)
            {
                sb.Append(c);
                continue;
            }

            if (c == '`')
            {
                var end = text.IndexOf('`', i + 1);
                var nl = text.IndexOf('\n', i + 1);
                if (end > i && (nl < 0 || end < nl))
                {
                    sb.Append(text, i, end - i + 1);
                    i = end;
                    continue;
                }
            }

            if (c == '{')
            {
                var end = SkipBalanced(text, i, '{', '}');
                if (end > i)
                {
                    i = end;
                    continue;
                }
            }

            if (c == '<' && i + 1 < text.Length && IsJsxTagStart(text, i + 1))
            {
                var end = SkipTag(text, i);
                if (end > i)
                {
                    i = end;
                    sb.Append(' ');
                    continue;
                }
            }

            sb.Append(c);
        }

        return sb.ToString();
    }

    private static bool IsJsxTagStart(string text, int i)
    {
        if (text[i] == '/')
        {
            i++;
        }

        if (i < text.Length && text[i] == '>')
        {
            return true; // fragment <> or </>
        }

        return i < text.Length && char.IsUpper(text[i]);
    }

    private static int SkipTag(string text, int start)
    {
        var quote = '\0';
        for (var i = start + 1; i < text.Length; i++)
        {
            var c = text[i];
            if (quote != '\0')
            {
                if (c == quote)
                {
                    quote = '\0';
                }

                continue;
            }

            switch (c)
            {
                case '"' or '\'':
                    quote = c;
                    break;
                case '{':
                    i = SkipBalanced(text, i, '{', '}');
                    if (i < 0)
                    {
                        return -1;
                    }

                    break;
                case '>':
                    return i;
            }
        }

        return -1;
    }

    private static int SkipBalanced(string text, int start, char open, char close)
    {
        var depth = 0;
        var quote = '\0';
        for (var i = start; i < text.Length; i++)
        {
            var c = text[i];
            if (quote != '\0')
            {
                if (c == '\\')
                {
                    i++;
                }
                else if (c == quote)
                {
                    quote = '\0';
                }

                continue;
            }

            if (c is '"' or '\'' or '`' && depth > 0)
            {
                quote = c;
            }
            else if (c == open)
            {
                depth++;
            }
            else if (c == close && --depth == 0)
            {
                return i;
            }
        }

        return -1;
    }

    [GeneratedRegex(@"^(?:import|export)\s")]
    private static partial Regex EsmLine();

    [GeneratedRegex(@"^(```|~~~)")]
    private static partial Regex FenceStart();
}
