using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Aims.Evidence.Core.Lexical;

namespace Aims.Evidence.Training;

/// <summary>
/// Labels of one training document. They point into the document's extracted text (<c>ExtractedDocument.Text</c>) by
/// character span plus a hash of the span's normalised text, so they hold no text of their own and survive
/// re-segmentation: a passage takes the labels of the spans it overlaps.
/// </summary>
public sealed record DocumentLabels
{
    public required string File { get; init; }

    /// <summary>SHA-256 of the file's bytes: labels apply to exactly these bytes.</summary>
    public required string Sha256 { get; init; }

    public required string DocType { get; init; }

    public IReadOnlyList<string> DocTypeAlt { get; init; } = [];

    public bool AiRelevant { get; init; } = true;

    public IReadOnlyList<string> Must { get; init; } = [];

    public IReadOnlyList<string> May { get; init; } = [];

    /// <summary>Who labelled it: "first", "second" (independent relabel), "resolved" or "synthetic".</summary>
    public string Labeller { get; init; } = "first";

    public bool Synthetic { get; init; }

    /// <summary>
    /// Training data for the polarity model only (finding or supporting): the pair scorer, the document classifiers and
    /// the mapper's thresholds never see the document, so finding-rich examples teach polarity without moving mapping.
    /// </summary>
    public bool PolarityOnly { get; init; }

    public required IReadOnlyList<SpanLabel> Spans { get; init; }
}

/// <summary>Labels of one stretch of a document's extracted text.</summary>
public sealed record SpanLabel
{
    public int Start { get; init; }

    public int Length { get; init; }

    /// <summary>First 16 hex digits of SHA-256 over the span's text normalised (lower-case letters and digits, single spaces).</summary>
    public required string Hash { get; init; }

    public IReadOnlyList<string> Controls { get; init; } = [];

    public IReadOnlyList<string> Also { get; init; } = [];

    /// <summary>The passage states the controls are absent, failed or nonconforming.</summary>
    public bool Finding { get; init; }

    public static string HashOf(string text) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Tokenizer.Normalize(text))))[..16];
}

/// <summary>Reads and writes label files: one <see cref="DocumentLabels"/> per JSON line.</summary>
public static class LabelFiles
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingDefault,
    };

    public static IReadOnlyList<DocumentLabels> Read(string path)
    {
        var result = new List<DocumentLabels>();
        var lineNo = 0;
        foreach (var line in File.ReadLines(path))
        {
            lineNo++;
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }

            result.Add(JsonSerializer.Deserialize<DocumentLabels>(line, Json)
                ?? throw new InvalidDataException($"{path}:{lineNo}: empty label line"));
        }

        return result;
    }

    public static void Write(string path, IEnumerable<DocumentLabels> labels)
    {
        var sb = new StringBuilder();
        foreach (var l in labels.OrderBy(l => l.File, StringComparer.Ordinal))
        {
            sb.Append(JsonSerializer.Serialize(l, Json)).Append('\n');
        }

        File.WriteAllText(path, sb.ToString());
    }
}

/// <summary>
/// The polarity evaluation set: evidence passages of real audit and assessment reports, each judged by two independent
/// labellers as supporting its controls or a finding against them (<c>polarity</c> is the resolved judgment). One
/// JSON line per document; spans point into the extracted text like <see cref="SpanLabel"/>.
/// </summary>
public sealed record PolarityDocument
{
    public required string File { get; init; }

    public required string Sha256 { get; init; }

    public required IReadOnlyList<PolaritySpan> Spans { get; init; }

    public static IReadOnlyList<PolarityDocument> Read(string path) =>
        System.IO.File.ReadLines(path).Where(l => !string.IsNullOrWhiteSpace(l))
            .Select(l => JsonSerializer.Deserialize<PolarityDocument>(l, LabelFiles.Json) ?? throw new InvalidDataException($"{path}: empty line"))
            .ToArray();
}

public sealed record PolaritySpan
{
    public int Start { get; init; }

    public int Length { get; init; }

    public required string Hash { get; init; }

    /// <summary>"finding" or "supports": the resolved judgment.</summary>
    public required string Polarity { get; init; }

    public string? First { get; init; }

    public string? Second { get; init; }

    public bool IsFinding => Polarity == "finding";
}
