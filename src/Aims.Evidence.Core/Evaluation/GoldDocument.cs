using System.Text.Json;
using System.Text.Json.Serialization;

namespace Aims.Evidence.Core.Evaluation;

/// <summary>One labelled passage of a gold document: an exact quote of the document, its primary control ids and further acceptable ids.</summary>
public sealed record GoldPassage(string Quote, IReadOnlyList<string> Controls, IReadOnlyList<string> Also)
{
    /// <summary>True when the passage evidences nothing (empty <see cref="Controls"/>).</summary>
    public bool IsNull => Controls.Count == 0;
}

/// <summary>One line of the gold JSONL file (see the evaluation README for the format).</summary>
public sealed record GoldDocument(
    string File,
    string DocType,
    IReadOnlyList<string> DocTypeAlt,
    bool AiRelevant,
    IReadOnlyList<string> MustControls,
    IReadOnlyList<string> MayControls,
    IReadOnlyList<GoldPassage> Passages);

/// <summary>Reads the gold JSONL format: one JSON object per non-blank line.</summary>
public static class GoldReader
{
    private static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        ReadCommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
    };

    public static async Task<IReadOnlyList<GoldDocument>> ReadFileAsync(string path, CancellationToken cancellationToken = default)
    {
        var text = await System.IO.File.ReadAllTextAsync(path, cancellationToken).ConfigureAwait(false);
        return Parse(text);
    }

    /// <summary>Parses JSONL text. Throws <see cref="FormatException"/> naming the line on a malformed or incomplete object.</summary>
    public static IReadOnlyList<GoldDocument> Parse(string jsonl)
    {
        ArgumentNullException.ThrowIfNull(jsonl);
        var result = new List<GoldDocument>();
        var lineNumber = 0;
        foreach (var raw in jsonl.Split('\n'))
        {
            lineNumber++;
            var line = raw.Trim();
            if (line.Length == 0)
            {
                continue;
            }

            GoldLine? dto;
            try
            {
                dto = JsonSerializer.Deserialize<GoldLine>(line, Options);
            }
            catch (JsonException ex)
            {
                throw new FormatException($"gold line {lineNumber}: {ex.Message}", ex);
            }

            if (dto is null || string.IsNullOrWhiteSpace(dto.File))
            {
                throw new FormatException($"gold line {lineNumber}: missing 'file'");
            }

            result.Add(new GoldDocument(
                dto.File,
                dto.DocType ?? string.Empty,
                dto.DocTypeAlt ?? [],
                dto.AiRelevant ?? true,
                dto.MustControls ?? [],
                dto.MayControls ?? [],
                (dto.Passages ?? []).Select(p => new GoldPassage(p.Quote ?? string.Empty, p.Controls ?? [], p.Also ?? [])).ToArray()));
        }

        return result;
    }

    private sealed class GoldLine
    {
        public string? File { get; set; }

        public string? DocType { get; set; }

        public List<string>? DocTypeAlt { get; set; }

        public bool? AiRelevant { get; set; }

        public List<string>? MustControls { get; set; }

        public List<string>? MayControls { get; set; }

        public List<GoldPassageLine>? Passages { get; set; }
    }

    private sealed class GoldPassageLine
    {
        public string? Quote { get; set; }

        public List<string>? Controls { get; set; }

        public List<string>? Also { get; set; }
    }
}
