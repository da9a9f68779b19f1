using System.Text.Json;
using YamlDotNet.RepresentationModel;

namespace Aims.Evidence.Core.Extraction;

/// <summary>
/// YAML (YamlDotNet representation model) and JSON (System.Text.Json): nested keys become headings by depth
/// ("a > b" paths), short scalars "key: value" lines, long strings paragraphs, scalar arrays list items.
/// </summary>
public sealed class StructuredDataExtractor : IDocumentExtractor
{
    private const int LongValue = 100;

    public IReadOnlyCollection<string> MediaTypes { get; } = [Extraction.MediaTypes.Yaml, Extraction.MediaTypes.Json];

    public Task<ExtractedDocument> ExtractAsync(ReadOnlyMemory<byte> content, ExtractionContext context, CancellationToken cancellationToken = default)
    {
        var text = TextDecoding.Decode(content.Span);
        var roots = context.MediaType == Extraction.MediaTypes.Json ? FromJson(text) : FromYaml(text);
        var builder = new LayoutBuilder();
        string? title = null;
        foreach (var root in roots)
        {
            cancellationToken.ThrowIfCancellationRequested();
            title ??= FindTitle(root);
            Walk(root, [], builder, 0);
        }

        return Task.FromResult(builder.Build(context.MediaType, 1, title));
    }

    private static string? FindTitle(Node root) =>
        root is MapNode map
            ? map.Entries.Where(e => e.Key.Equals("title", StringComparison.OrdinalIgnoreCase) || e.Key.Equals("name", StringComparison.OrdinalIgnoreCase))
                .Select(e => (e.Value as ScalarNode)?.Value).FirstOrDefault(v => !string.IsNullOrWhiteSpace(v))
            : null;

    private static void Walk(Node node, List<string> path, LayoutBuilder builder, int depth)
    {
        if (depth > 64)
        {
            throw new DocumentRejectedException(RejectionKind.Invalid, "the data is nested more than 64 levels deep");
        }

        switch (node)
        {
            case ScalarNode scalar:
                EmitScalar(path.Count > 0 ? path[^1] : null, scalar.Value, builder);
                break;
            case SeqNode seq:
                foreach (var item in seq.Items)
                {
                    if (item is ScalarNode s)
                    {
                        if (s.Value.Length > LongValue)
                        {
                            EmitLong(s.Value, builder);
                        }
                        else
                        {
                            builder.ListItem(s.Value);
                        }
                    }
                    else
                    {
                        Walk(item, path, builder, depth + 1);
                    }
                }

                break;
            case MapNode map:
                foreach (var (key, value) in map.Entries)
                {
                    if (value is ScalarNode s && s.Value.Length <= LongValue && !s.Value.Contains('\n', StringComparison.Ordinal))
                    {
                        if (s.Value.Length > 0)
                        {
                            builder.Paragraph($"{key}: {s.Value}");
                        }

                        continue;
                    }

                    if (value is SeqNode { Items.Count: 0 } or MapNode { Entries.Count: 0 })
                    {
                        continue;
                    }

                    path.Add(key);
                    builder.Heading(string.Join(" > ", path), Math.Min(9, path.Count));
                    if (value is ScalarNode longScalar)
                    {
                        EmitLong(longScalar.Value, builder);
                    }
                    else
                    {
                        Walk(value, path, builder, depth + 1);
                    }

                    path.RemoveAt(path.Count - 1);
                }

                break;
        }
    }

    private static void EmitScalar(string? key, string value, LayoutBuilder builder)
    {
        if (value.Length > LongValue || key is null)
        {
            EmitLong(value, builder);
        }
        else
        {
            builder.Paragraph($"{key}: {value}");
        }
    }

    private static void EmitLong(string value, LayoutBuilder builder)
    {
        foreach (var paragraph in PlainTextExtractor.SplitParagraphs(value))
        {
            builder.Paragraph(TextTools.JoinLines(paragraph.Split('\n')));
        }
    }

    /// <summary>One JSON value, or JSON Lines / concatenated values (one root per record).</summary>
    private static List<Node> FromJson(string text)
    {
        var bytes = System.Text.Encoding.UTF8.GetBytes(text);
        var reader = new Utf8JsonReader(bytes, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true, AllowMultipleValues = true, MaxDepth = 128 });
        var roots = new List<Node>();
        try
        {
            while (reader.Read())
            {
                using var doc = JsonDocument.ParseValue(ref reader);
                roots.Add(Convert(doc.RootElement));
            }
        }
        catch (JsonException ex)
        {
            throw new DocumentRejectedException(RejectionKind.Invalid, $"could not read the JSON file: {TextNormalizer.CollapseWhitespace(ex.Message)}", ex);
        }

        return roots;
    }

    private static Node Convert(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.Object => new MapNode(e.EnumerateObject().Select(p => (p.Name, Convert(p.Value))).ToList()),
        JsonValueKind.Array => new SeqNode(e.EnumerateArray().Select(Convert).ToList()),
        JsonValueKind.String => new ScalarNode(e.GetString() ?? string.Empty),
        JsonValueKind.Null => new ScalarNode(string.Empty),
        _ => new ScalarNode(e.GetRawText()),
    };

    private static List<Node> FromYaml(string text)
    {
        if (MaxBracketDepth(text) > 200)
        {
            throw new DocumentRejectedException(RejectionKind.Invalid, "the YAML is nested more than 200 levels deep");
        }

        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(text));
        }
        catch (YamlDotNet.Core.YamlException ex)
        {
            throw new DocumentRejectedException(RejectionKind.Invalid, $"not valid YAML: {TextNormalizer.CollapseWhitespace(ex.Message)}", ex);
        }

        var budget = new int[] { 1_000_000 };
        return stream.Documents.Select(d => Convert(d.RootNode, 0, budget)).ToList();
    }

    private static Node Convert(YamlNode node, int depth, int[] budget)
    {
        if (--budget[0] < 0)
        {
            throw new DocumentRejectedException(RejectionKind.Invalid, "the YAML expands to more than a million nodes (alias expansion?)");
        }

        if (depth > 64)
        {
            throw new DocumentRejectedException(RejectionKind.Invalid, "the YAML is nested more than 64 levels deep (or has recursive aliases)");
        }

        return node switch
        {
            YamlMappingNode m => new MapNode(m.Children.Select(kv => (KeyText(kv.Key), Convert(kv.Value, depth + 1, budget))).ToList()),
            YamlSequenceNode s => new SeqNode(s.Children.Select(c => Convert(c, depth + 1, budget)).ToList()),
            YamlScalarNode sc => new ScalarNode(sc.Value ?? string.Empty),
            _ => new ScalarNode(string.Empty),
        };
    }

    private static int MaxBracketDepth(string text)
    {
        var depth = 0;
        var max = 0;
        foreach (var c in text)
        {
            if (c is '[' or '{')
            {
                max = Math.Max(max, ++depth);
            }
            else if (c is ']' or '}' && depth > 0)
            {
                depth--;
            }
        }

        return max;
    }

    private static string KeyText(YamlNode key) => key is YamlScalarNode s ? s.Value ?? string.Empty : key.ToString();

    private abstract record Node;

    private sealed record ScalarNode(string Value) : Node;

    private sealed record SeqNode(List<Node> Items) : Node;

    private sealed record MapNode(List<(string Key, Node Value)> Entries) : Node;
}
