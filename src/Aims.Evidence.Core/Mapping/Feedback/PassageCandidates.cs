using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Aims.Evidence.Core.Mapping.Feedback;

/// <summary>One entry a mapper scored for a passage, with its probability.</summary>
public sealed record EntryScore(string ControlId, double Probability);

/// <summary>
/// What a mapper knew about one passage beyond its suggestions: the best-scored entries (also those under the threshold),
/// the rule it suggests by (threshold, at most how many), and the passage's probability of stating a finding. Kept with
/// the passage so review decisions can re-rank it later without running the model again.
/// </summary>
public sealed record PassageCandidates
{
    /// <summary>How many of a passage's best entries are kept.</summary>
    public const int Kept = 20;

    /// <summary>Entries under this probability are not kept (they could not reach a threshold through reviews).</summary>
    public const double Floor = 0.01;

    private static readonly JsonSerializerOptions Json = new() { DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull };

    public required double Threshold { get; init; }

    public required int MaxSuggestions { get; init; }

    public required string Method { get; init; }

    public string? Model { get; init; }

    /// <summary>The polarity model's probability that the passage states a finding; null when no polarity model ran.</summary>
    public double? Finding { get; init; }

    public double FindingThreshold { get; init; } = 1;

    /// <summary>Best first.</summary>
    public IReadOnlyList<EntryScore> Entries { get; init; } = [];

    /// <summary>
    /// The passage's vectors under both packaged encoders (stored at half precision), so that reviewed passages can
    /// join the trained mapper's labelled passages and move similar ones without encoding anything again; null when
    /// the mapper used none.
    /// </summary>
    public PassageVectors? Vectors { get; init; }

    /// <summary>The document-type probabilities the mapper used for the passage's document (its model's type order).</summary>
    public IReadOnlyList<double>? DocTypes { get; init; }

    /// <summary>Per entry, why re-scoring with reviewed passages moved its probability (never stored).</summary>
    public IReadOnlyDictionary<string, string>? Notes { get; init; }

    public bool IsFinding => Finding is { } f && f >= FindingThreshold;

    /// <summary>The entries a mapper with this rule suggests from <paramref name="scores"/>: at or above the threshold, best first, at most <see cref="MaxSuggestions"/>.</summary>
    public IEnumerable<EntryScore> Select(IEnumerable<EntryScore> scores) =>
        scores.Where(s => s.Probability >= Threshold).OrderByDescending(s => s.Probability).ThenBy(s => s.ControlId, StringComparer.Ordinal).Take(MaxSuggestions);

    /// <summary>Compact JSON for storage.</summary>
    public string Serialize() => JsonSerializer.Serialize(
        new Stored(Threshold, MaxSuggestions, Method, Model, Finding, Finding is null ? null : FindingThreshold, [.. Entries.Select(e => new[] { e.ControlId, e.Probability.ToString("0.####", CultureInfo.InvariantCulture) })])
        {
            Vm = Vectors is null ? null : PassageVectors.Encode(Vectors.MiniLM),
            Va = Vectors is null ? null : PassageVectors.Encode(Vectors.Arctic),
            Dt = DocTypes is null ? null : [.. DocTypes.Select(d => Math.Round(d, 6))],
        },
        Json);

    /// <summary>Reads <see cref="Serialize"/>'s form; null for null, empty or unreadable text (a passage without candidates).</summary>
    public static PassageCandidates? Parse(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        try
        {
            var s = JsonSerializer.Deserialize<Stored>(text, Json);
            if (s?.M is null || s.C is null)
            {
                return null;
            }

            return new PassageCandidates
            {
                Threshold = s.T,
                MaxSuggestions = s.N,
                Method = s.M,
                Model = s.Model,
                Finding = s.F,
                FindingThreshold = s.Ft ?? 1,
                Entries = [.. s.C.Where(c => c.Length == 2).Select(c => new EntryScore(c[0], double.Parse(c[1], CultureInfo.InvariantCulture)))],
                Vectors = PassageVectors.Decode(s.Vm, s.Va),
                DocTypes = s.Dt,
            };
        }
        catch (Exception ex) when (ex is JsonException or FormatException)
        {
            return null;
        }
    }

    private sealed record Stored(
        [property: JsonPropertyName("t")] double T,
        [property: JsonPropertyName("n")] int N,
        [property: JsonPropertyName("m")] string? M,
        [property: JsonPropertyName("model")] string? Model,
        [property: JsonPropertyName("f")] double? F,
        [property: JsonPropertyName("ft")] double? Ft,
        [property: JsonPropertyName("c")] string[][]? C)
    {
        [JsonPropertyName("vm")]
        public string? Vm { get; init; }

        [JsonPropertyName("va")]
        public string? Va { get; init; }

        [JsonPropertyName("dt")]
        public double[]? Dt { get; init; }
    }
}

/// <summary>A passage's vectors under the two packaged encoders (MiniLM and ArcticXs), as the trained mapper saw them.</summary>
public sealed record PassageVectors(float[] MiniLM, float[] Arctic)
{
    /// <summary>Half-precision little-endian values in Base64 (1 KB per 384-dimensional vector in JSON).</summary>
    public static string Encode(float[] vector)
    {
        ArgumentNullException.ThrowIfNull(vector);
        var bytes = new byte[vector.Length * 2];
        for (var i = 0; i < vector.Length; i++)
        {
            System.Buffers.Binary.BinaryPrimitives.WriteHalfLittleEndian(bytes.AsSpan(i * 2), (Half)vector[i]);
        }

        return Convert.ToBase64String(bytes);
    }

    /// <summary>Both vectors from <see cref="Encode"/>'s form; null when either is missing or unreadable.</summary>
    public static PassageVectors? Decode(string? miniLM, string? arctic)
    {
        var m = Read(miniLM);
        var a = Read(arctic);
        return m is null || a is null ? null : new PassageVectors(m, a);
    }

    /// <summary>The same vectors after a round trip through storage (what re-scoring will read).</summary>
    public PassageVectors Stored() => new(Round(MiniLM), Round(Arctic));

    private static float[] Round(float[] v) => [.. v.Select(x => (float)(Half)x)];

    private static float[]? Read(string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return null;
        }

        try
        {
            var bytes = Convert.FromBase64String(text);
            if (bytes.Length % 2 != 0)
            {
                return null;
            }

            var v = new float[bytes.Length / 2];
            for (var i = 0; i < v.Length; i++)
            {
                v[i] = (float)System.Buffers.Binary.BinaryPrimitives.ReadHalfLittleEndian(bytes.AsSpan(i * 2));
            }

            return v;
        }
        catch (FormatException)
        {
            return null;
        }
    }
}

/// <summary>
/// Where mappers leave each passage's <see cref="PassageCandidates"/> during one mapping call (see
/// <see cref="MappingContext.Candidates"/>); one sink per call, slot per passage.
/// </summary>
public sealed class CandidateSink(int count)
{
    private readonly PassageCandidates?[] _slots = new PassageCandidates?[count];
    private readonly double?[] _finding = new double?[count];
    private double _findingThreshold = 1;

    public int Count => _slots.Length;

    public void Record(int passage, PassageCandidates candidates) => _slots[passage] = candidates;

    /// <summary>The polarity model's probability for a passage (recorded by the polarity qualifier).</summary>
    public void RecordFinding(int passage, double probability, double threshold)
    {
        _finding[passage] = probability;
        _findingThreshold = threshold;
    }

    /// <summary>The candidates of a passage with its finding probability, or null when the mapper recorded none.</summary>
    public PassageCandidates? this[int passage] =>
        _slots[passage] is { } c ? c with { Finding = _finding[passage], FindingThreshold = _finding[passage] is null ? 1 : _findingThreshold } : null;
}
