using System.Security.Cryptography;
using System.Text.Json;
using Aims.Evidence.Core.Extraction;
using Aims.Evidence.Core.Segmentation;

namespace Aims.Evidence.Training;

/// <summary>A passage's labels (null when no label span covers it).</summary>
public sealed record PassageLabel(IReadOnlyList<string> Controls, IReadOnlyList<string> Also, bool Finding)
{
    public bool IsEvidence => Controls.Count > 0;
}

/// <summary>One training document: its labels, the product's passages of it and each passage's labels.</summary>
public sealed record TrainingDocument(int Index, DocumentLabels Labels, ExtractedDocument Extracted, IReadOnlyList<Passage> Passages, IReadOnlyList<PassageLabel?> PassageLabels);

/// <summary>
/// The labelled corpus as the product reads it: each labelled file is extracted and segmented by the product's own
/// code, and every passage takes the labels of the span it overlaps most (at least half of the passage).
/// </summary>
public sealed class TrainingCorpus
{
    private TrainingCorpus(IReadOnlyList<TrainingDocument> documents, IReadOnlyList<string> problems)
    {
        Documents = documents;
        Problems = problems;
    }

    public IReadOnlyList<TrainingDocument> Documents { get; }

    /// <summary>Files not found, changed bytes, spans whose text no longer matches their hash.</summary>
    public IReadOnlyList<string> Problems { get; }

    public int LabelledPassages => Documents.Sum(d => d.PassageLabels.Count(l => l is not null));

    public static async Task<TrainingCorpus> LoadAsync(IEnumerable<DocumentLabels> labels, IReadOnlyList<string> fileDirectories, CancellationToken cancellationToken = default)
    {
        var reader = DocumentReader.CreateDefault();
        var segmenter = new Segmenter();
        var documents = new List<TrainingDocument>();
        var problems = new List<string>();
        foreach (var label in labels.OrderBy(l => l.File, StringComparer.Ordinal))
        {
            var path = fileDirectories.Select(d => Path.Combine(d, label.File)).FirstOrDefault(File.Exists);
            if (path is null)
            {
                problems.Add($"{label.File}: not found in {string.Join(", ", fileDirectories)}");
                continue;
            }

            var bytes = await File.ReadAllBytesAsync(path, cancellationToken).ConfigureAwait(false);
            if (!string.Equals(Convert.ToHexStringLower(SHA256.HashData(bytes)), label.Sha256, StringComparison.Ordinal))
            {
                problems.Add($"{label.File}: the file's bytes differ from the labelled ones (sha256); skipped");
                continue;
            }

            var extracted = await reader.ReadAsync(bytes, label.File, ExtractionLimits.Default, cancellationToken).ConfigureAwait(false);
            var passages = segmenter.Segment(extracted);
            var stale = label.Spans.Count(s => s.Start + s.Length > extracted.Text.Length || SpanLabel.HashOf(extracted.Text.Substring(s.Start, s.Length)) != s.Hash);
            if (stale > 0)
            {
                problems.Add($"{label.File}: {stale} of {label.Spans.Count} label spans no longer match the extracted text (extraction changed?)");
            }

            documents.Add(new TrainingDocument(documents.Count, label, extracted, passages, Assign(passages, label.Spans)));
        }

        return new TrainingCorpus(documents, problems);
    }

    /// <summary>Each passage takes the labels of the span overlapping it most, when that covers at least half of it.</summary>
    public static PassageLabel?[] Assign(IReadOnlyList<Passage> passages, IReadOnlyList<SpanLabel> spans) =>
        BestSpans(passages, spans, s => (s.Start, s.Length))
            .Select(s => s is null ? null : new PassageLabel(s.Controls, s.Also, s.Finding)).ToArray();

    /// <summary>
    /// Per passage, the span overlapping it most when that covers at least half of it (else null): how span labels of
    /// any kind find the passages of a segmentation that need not be the one they were made on.
    /// </summary>
    public static T?[] BestSpans<T>(IReadOnlyList<Passage> passages, IReadOnlyList<T> spans, Func<T, (int Start, int Length)> range)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(passages);
        ArgumentNullException.ThrowIfNull(range);
        var sorted = spans.OrderBy(s => range(s).Start).ToArray();
        var result = new T?[passages.Count];
        for (var i = 0; i < passages.Count; i++)
        {
            var p = passages[i];
            T? best = null;
            var bestOverlap = 0;
            foreach (var s in sorted)
            {
                var (start, length) = range(s);
                if (start >= p.Start + p.Length)
                {
                    break;
                }

                var overlap = Math.Min(p.Start + p.Length, start + length) - Math.Max(p.Start, start);
                if (overlap > bestOverlap)
                {
                    (best, bestOverlap) = (s, overlap);
                }
            }

            if (best is not null && bestOverlap * 2 >= Math.Max(1, p.Length))
            {
                result[i] = best;
            }
        }

        return result;
    }
}

/// <summary>
/// Turns labels given per passage ordinal (how labellers work: the product's passages listed in order) into span
/// labels for the tree, by segmenting the same file with the product's code.
/// </summary>
public static class LabelImporter
{
    public static async Task<DocumentLabels> ImportAsync(string ordinalLabelFile, string documentPath, string labeller, bool synthetic, CancellationToken cancellationToken = default)
    {
        using var json = JsonDocument.Parse(await File.ReadAllTextAsync(ordinalLabelFile, cancellationToken).ConfigureAwait(false));
        var root = json.RootElement;
        var bytes = await File.ReadAllBytesAsync(documentPath, cancellationToken).ConfigureAwait(false);
        var extracted = await DocumentReader.CreateDefault().ReadAsync(bytes, Path.GetFileName(documentPath), ExtractionLimits.Default, cancellationToken).ConfigureAwait(false);
        var passages = new Segmenter().Segment(extracted);
        var byOrdinal = new PassageLabel?[passages.Count];
        foreach (var range in root.GetProperty("ranges").EnumerateArray())
        {
            var from = range.GetProperty("from").GetInt32();
            var to = range.GetProperty("to").GetInt32();
            if (from < 0 || to >= passages.Count || from > to)
            {
                throw new InvalidDataException($"{ordinalLabelFile}: range {from}..{to} is outside the {passages.Count} passages of {documentPath}");
            }

            var label = new PassageLabel(Strings(range, "controls"), Strings(range, "also"), range.TryGetProperty("finding", out var f) && f.ValueKind == JsonValueKind.True);
            for (var o = from; o <= to; o++)
            {
                byOrdinal[o] = label;
            }
        }

        // Passages that share a span (rare: a split block that could not be followed) get the union of their labels.
        var spans = passages.Select((p, i) => (p, l: byOrdinal[i])).Where(x => x.l is not null)
            .GroupBy(x => (x.p.Start, x.p.Length))
            .Select(g => new SpanLabel
            {
                Start = g.Key.Start,
                Length = g.Key.Length,
                Hash = SpanLabel.HashOf(extracted.Text.Substring(g.Key.Start, g.Key.Length)),
                Controls = g.SelectMany(x => x.l!.Controls).Distinct(StringComparer.Ordinal).ToArray(),
                Also = g.SelectMany(x => x.l!.Also).Distinct(StringComparer.Ordinal).ToArray(),
                Finding = g.Any(x => x.l!.Finding),
            })
            .OrderBy(s => s.Start)
            .ToArray();

        return new DocumentLabels
        {
            File = Path.GetFileName(documentPath),
            Sha256 = Convert.ToHexStringLower(SHA256.HashData(bytes)),
            DocType = root.GetProperty("doc_type").GetString() ?? "reference",
            DocTypeAlt = Strings(root, "doc_type_alt"),
            AiRelevant = !root.TryGetProperty("ai_relevant", out var ai) || ai.ValueKind != JsonValueKind.False,
            Must = Strings(root, "must_controls"),
            May = Strings(root, "may_controls"),
            Labeller = labeller,
            Synthetic = synthetic,
            PolarityOnly = root.TryGetProperty("polarity_only", out var po) && po.ValueKind == JsonValueKind.True,
            Spans = spans,
        };
    }

    private static string[] Strings(JsonElement e, string name) =>
        e.TryGetProperty(name, out var a) && a.ValueKind == JsonValueKind.Array ? a.EnumerateArray().Select(x => x.GetString() ?? string.Empty).Where(s => s.Length > 0).ToArray() : [];
}
