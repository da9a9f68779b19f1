using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;

namespace Aims.Evidence.Core.Mapping.Trained;

/// <summary>
/// Unit vectors stored as signed bytes with one scale per vector (cosine error about 0.005), so the model ships
/// numbers, never text. <see cref="Dot"/> of a float unit vector with a stored one approximates their cosine.
/// </summary>
public sealed class QuantizedVectors
{
    private readonly sbyte[] _data;
    private readonly float[] _scales;

    public QuantizedVectors(int dimensions, sbyte[] data, float[] scales)
    {
        Dimensions = dimensions;
        _data = data;
        _scales = scales;
        if (data.Length != scales.Length * dimensions)
        {
            throw new InvalidDataException("vector data and scales disagree");
        }
    }

    public int Dimensions { get; }

    public int Count => _scales.Length;

    public static QuantizedVectors From(IReadOnlyList<float[]> vectors, int dimensions)
    {
        var data = new sbyte[vectors.Count * dimensions];
        var scales = new float[vectors.Count];
        for (var i = 0; i < vectors.Count; i++)
        {
            var v = vectors[i];
            var max = 1e-12f;
            for (var d = 0; d < dimensions; d++)
            {
                max = Math.Max(max, Math.Abs(v[d]));
            }

            scales[i] = max / 127f;
            for (var d = 0; d < dimensions; d++)
            {
                data[(i * dimensions) + d] = (sbyte)Math.Clamp(MathF.Round(v[d] / scales[i]), -127, 127);
            }
        }

        return new QuantizedVectors(dimensions, data, scales);
    }

    /// <summary>The stored vector <paramref name="index"/> dotted with <paramref name="vector"/> (SIMD over the dequantised copy).</summary>
    public float Dot(int index, ReadOnlySpan<float> vector) =>
        System.Numerics.Tensors.TensorPrimitives.Dot(Dequantized.AsSpan(index * Dimensions, Dimensions), vector[..Dimensions]);

    /// <summary>All vectors as floats (built once on first use: the model file stays small, scoring stays fast).</summary>
    private float[] Dequantized => _floats ??= Dequantize();

    private float[]? _floats;

    private float[] Dequantize()
    {
        var floats = new float[_data.Length];
        for (var i = 0; i < Count; i++)
        {
            for (var d = 0; d < Dimensions; d++)
            {
                floats[(i * Dimensions) + d] = _data[(i * Dimensions) + d] * _scales[i];
            }
        }

        return floats;
    }

    internal void Write(BinaryWriter w)
    {
        w.Write(Dimensions);
        w.Write(Count);
        w.Write(MemoryMarshalBytes(_data));
        foreach (var s in _scales)
        {
            w.Write(s);
        }
    }

    internal static QuantizedVectors Read(BinaryReader r)
    {
        var dims = r.ReadInt32();
        var count = r.ReadInt32();
        var bytes = r.ReadBytes(dims * count);
        var data = new sbyte[bytes.Length];
        Buffer.BlockCopy(bytes, 0, data, 0, bytes.Length);
        var scales = new float[count];
        for (var i = 0; i < count; i++)
        {
            scales[i] = r.ReadSingle();
        }

        return new QuantizedVectors(dims, data, scales);
    }

    private static byte[] MemoryMarshalBytes(sbyte[] data)
    {
        var bytes = new byte[data.Length];
        Buffer.BlockCopy(data, 0, bytes, 0, data.Length);
        return bytes;
    }
}

/// <summary>Labelled passages of the training corpus as vectors: their entry (-1 for "no evidence"), document and source.</summary>
public sealed class ExemplarBank
{
    public required QuantizedVectors MiniLM { get; init; }

    public required QuantizedVectors Arctic { get; init; }

    /// <summary>Entry index per exemplar; -1 marks a passage labelled as no evidence.</summary>
    public required int[] Entry { get; init; }

    /// <summary>Training document index per exemplar (used to leave a document out of its own features).</summary>
    public required int[] Group { get; init; }

    /// <summary>Where each exemplar comes from: "file#start+length" (a pointer into the corpus, never its text).</summary>
    public required string[] Source { get; init; }

    public int Count => Entry.Length;
}

/// <summary>A multinomial (or, with one class, binary) logistic model over a dense input.</summary>
public sealed class LinearModel
{
    public required double[][] Weights { get; init; }

    public required double[] Bias { get; init; }

    public int Classes => Bias.Length;

    public double[] Scores(ReadOnlySpan<double> input)
    {
        var scores = new double[Classes];
        for (var c = 0; c < Classes; c++)
        {
            var w = Weights[c];
            var s = Bias[c];
            for (var d = 0; d < w.Length; d++)
            {
                s += w[d] * input[d];
            }

            scores[c] = s;
        }

        return scores;
    }

    /// <summary>Softmax over classes (multinomial) or the sigmoid of the one score (binary).</summary>
    public double[] Probabilities(ReadOnlySpan<double> input)
    {
        var scores = Scores(input);
        return scores.Length == 1 ? [Sigmoid(scores[0])] : Softmax(scores);
    }

    /// <summary>Softmax of <paramref name="scores"/> (a new array).</summary>
    public static double[] Softmax(double[] scores)
    {
        ArgumentNullException.ThrowIfNull(scores);
        var max = scores.Max();
        var result = new double[scores.Length];
        var sum = 0.0;
        for (var i = 0; i < scores.Length; i++)
        {
            result[i] = Math.Exp(scores[i] - max);
            sum += result[i];
        }

        for (var i = 0; i < result.Length; i++)
        {
            result[i] /= sum;
        }

        return result;
    }

    public static double Sigmoid(double x) => 1 / (1 + Math.Exp(-x));

    internal void Write(BinaryWriter w)
    {
        w.Write(Classes);
        w.Write(Weights[0].Length);
        for (var c = 0; c < Classes; c++)
        {
            w.Write(Bias[c]);
            foreach (var x in Weights[c])
            {
                w.Write(x);
            }
        }
    }

    internal static LinearModel Read(BinaryReader r)
    {
        var classes = r.ReadInt32();
        var dims = r.ReadInt32();
        var weights = new double[classes][];
        var bias = new double[classes];
        for (var c = 0; c < classes; c++)
        {
            bias[c] = r.ReadDouble();
            weights[c] = new double[dims];
            for (var d = 0; d < dims; d++)
            {
                weights[c][d] = r.ReadDouble();
            }
        }

        return new LinearModel { Weights = weights, Bias = bias };
    }
}

/// <summary>Regression trees (LightGBM / FastTree layout): a split goes left when the feature is at most its threshold.</summary>
public sealed class TreeEnsemble
{
    public required TreeData[] Trees { get; init; }

    public double Bias { get; init; }

    public double Score(ReadOnlySpan<double> features)
    {
        var sum = Bias;
        foreach (var tree in Trees)
        {
            sum += tree.Weight * tree.Evaluate(features);
        }

        return sum;
    }

    internal void Write(BinaryWriter w)
    {
        w.Write(Bias);
        w.Write(Trees.Length);
        foreach (var t in Trees)
        {
            w.Write(t.Weight);
            w.Write(t.Feature.Length);
            for (var i = 0; i < t.Feature.Length; i++)
            {
                w.Write(t.Feature[i]);
                w.Write(t.Threshold[i]);
                w.Write(t.Left[i]);
                w.Write(t.Right[i]);
            }

            w.Write(t.Leaf.Length);
            foreach (var v in t.Leaf)
            {
                w.Write(v);
            }
        }
    }

    internal static TreeEnsemble Read(BinaryReader r)
    {
        var bias = r.ReadDouble();
        var trees = new TreeData[r.ReadInt32()];
        for (var k = 0; k < trees.Length; k++)
        {
            var weight = r.ReadDouble();
            var n = r.ReadInt32();
            var (feature, threshold, left, right) = (new int[n], new float[n], new int[n], new int[n]);
            for (var i = 0; i < n; i++)
            {
                feature[i] = r.ReadInt32();
                threshold[i] = r.ReadSingle();
                left[i] = r.ReadInt32();
                right[i] = r.ReadInt32();
            }

            var leaf = new double[r.ReadInt32()];
            for (var i = 0; i < leaf.Length; i++)
            {
                leaf[i] = r.ReadDouble();
            }

            trees[k] = new TreeData { Weight = weight, Feature = feature, Threshold = threshold, Left = left, Right = right, Leaf = leaf };
        }

        return new TreeEnsemble { Bias = bias, Trees = trees };
    }
}

/// <summary>One tree: node arrays; a negative child <c>c</c> is the leaf <c>~c</c>.</summary>
public sealed class TreeData
{
    public double Weight { get; init; } = 1;

    public required int[] Feature { get; init; }

    public required float[] Threshold { get; init; }

    public required int[] Left { get; init; }

    public required int[] Right { get; init; }

    public required double[] Leaf { get; init; }

    public double Evaluate(ReadOnlySpan<double> features)
    {
        if (Feature.Length == 0)
        {
            return Leaf[0];
        }

        var node = 0;
        while (true)
        {
            var next = (float)features[Feature[node]] <= Threshold[node] ? Left[node] : Right[node];
            if (next < 0)
            {
                return Leaf[~next];
            }

            node = next;
        }
    }
}

/// <summary>Isotonic (pool-adjacent-violators) map from a raw score to a probability, piecewise linear between knots.</summary>
public sealed class IsotonicCalibration
{
    public required double[] X { get; init; }

    public required double[] Y { get; init; }

    public double Map(double score)
    {
        if (X.Length == 0)
        {
            return Math.Clamp(score, 0, 1);
        }

        if (score <= X[0])
        {
            return Y[0];
        }

        if (score >= X[^1])
        {
            return Y[^1];
        }

        var i = Array.BinarySearch(X, score);
        if (i >= 0)
        {
            return Y[i];
        }

        i = ~i;
        var t = (score - X[i - 1]) / (X[i] - X[i - 1]);
        return Y[i - 1] + (t * (Y[i] - Y[i - 1]));
    }

    /// <summary>Fits the monotone map on (score, outcome) pairs; knots are the block means of the pooled scores.</summary>
    public static IsotonicCalibration Fit(IReadOnlyList<double> scores, IReadOnlyList<bool> outcomes)
    {
        var order = Enumerable.Range(0, scores.Count).OrderBy(i => scores[i]).ThenBy(i => i).ToArray();
        var blocks = new List<(double SumX, double SumY, int N)>();
        foreach (var i in order)
        {
            blocks.Add((scores[i], outcomes[i] ? 1 : 0, 1));
            while (blocks.Count > 1 && blocks[^2].SumY / blocks[^2].N >= blocks[^1].SumY / blocks[^1].N)
            {
                var (a, b) = (blocks[^2], blocks[^1]);
                blocks.RemoveAt(blocks.Count - 1);
                blocks[^1] = (a.SumX + b.SumX, a.SumY + b.SumY, a.N + b.N);
            }
        }

        return new IsotonicCalibration
        {
            X = blocks.Select(b => b.SumX / b.N).ToArray(),
            Y = blocks.Select(b => b.SumY / b.N).ToArray(),
        };
    }
}

/// <summary>
/// The trained mapper's parameters: exemplar and profile vectors of both packaged encoders, the level-one linear
/// models (entry, evidence, document type), the pair scorer over <see cref="PairFeatures"/>, its calibration and the
/// decision threshold. Written by <c>aims train</c> deterministically (same corpus, same bytes).
/// </summary>
public sealed record TrainedModel
{
    private const string Magic = "AIMS-TRAINED-MAPPER";
    public const int FormatVersion = 4;

    public required string Version { get; init; }

    public required string CatalogVersion { get; init; }

    public required string[] EntryIds { get; init; }

    public required string[] DocTypes { get; init; }

    public required int Dimensions { get; init; }

    /// <summary>Profile statement vectors (our own example statements, titles and summaries), MiniLM then Arctic.</summary>
    public required QuantizedVectors ProfileMiniLM { get; init; }

    public required QuantizedVectors ProfileArctic { get; init; }

    public required int[] ProfileEntry { get; init; }

    public required ExemplarBank Exemplars { get; init; }

    /// <summary>P(entry) among positive labelled passages, and P(entry | document type).</summary>
    public required double[] EntryPrior { get; init; }

    public required double[][] DocTypeEntryPrior { get; init; }

    public required LinearModel EntryModel { get; init; }

    public required LinearModel EvidenceModel { get; init; }

    public required LinearModel DocTypeModel { get; init; }

    /// <summary>Document level: the passage model's mean scores and the lexical cue probabilities, combined (see <see cref="DocumentTypeSignals"/>).</summary>
    public required LinearModel DocTypeCombiner { get; init; }

    /// <summary>The pair scorer: trees, or a linear model over standardised features.</summary>
    public TreeEnsemble? PairTrees { get; init; }

    public LinearModel? PairLinear { get; init; }

    public double[]? PairMean { get; init; }

    public double[]? PairStd { get; init; }

    public required IsotonicCalibration Calibration { get; init; }

    /// <summary>Calibrated probability from which a mapping is suggested.</summary>
    public required double Threshold { get; init; }

    public required int MaxSuggestions { get; init; }

    /// <summary>Candidates per passage to offer an LLM judge (the right entry among them for 95% of labelled passages, out of fold).</summary>
    public required int CandidateK { get; init; }

    /// <summary>
    /// Which document-type decision measured better on the training corpus and is shown to users: the trained combiner
    /// ("trained") or the written classifier ("written"); the mapper uses the combiner's probabilities either way.
    /// </summary>
    public string DocTypeDecision { get; init; } = "trained";

    /// <summary>Passages whose best probability is below this are not offered to an LLM judge (clearly no evidence).</summary>
    public double CandidateFloor { get; init; }

    /// <summary>Whether a passage states a control is absent or failed (a finding); null in models trained without it.</summary>
    public PolarityModel? Polarity { get; init; }

    /// <summary>Free-form training summary (corpus size, chosen learner, cross-validated figures).</summary>
    public string Summary { get; init; } = string.Empty;

    public double RawPairScore(ReadOnlySpan<double> features)
    {
        if (PairTrees is not null)
        {
            return PairTrees.Score(features);
        }

        var x = new double[features.Length];
        for (var i = 0; i < x.Length; i++)
        {
            x[i] = (features[i] - PairMean![i]) / PairStd![i];
        }

        return PairLinear!.Scores(x)[0];
    }

    public double Probability(ReadOnlySpan<double> features) => Calibration.Map(RawPairScore(features));

    public byte[] ToBytes()
    {
        using var raw = new MemoryStream();
        using (var gz = new GZipStream(raw, CompressionLevel.SmallestSize, leaveOpen: true))
        using (var w = new BinaryWriter(gz, Encoding.UTF8, leaveOpen: true))
        {
            w.Write(Magic);
            w.Write(FormatVersion);
            w.Write(Version);
            w.Write(CatalogVersion);
            w.Write(Summary);
            WriteStrings(w, EntryIds);
            WriteStrings(w, DocTypes);
            w.Write(Dimensions);
            ProfileMiniLM.Write(w);
            ProfileArctic.Write(w);
            WriteInts(w, ProfileEntry);
            Exemplars.MiniLM.Write(w);
            Exemplars.Arctic.Write(w);
            WriteInts(w, Exemplars.Entry);
            WriteInts(w, Exemplars.Group);
            WriteStrings(w, Exemplars.Source);
            WriteDoubles(w, EntryPrior);
            w.Write(DocTypeEntryPrior.Length);
            foreach (var row in DocTypeEntryPrior)
            {
                WriteDoubles(w, row);
            }

            EntryModel.Write(w);
            EvidenceModel.Write(w);
            DocTypeModel.Write(w);
            DocTypeCombiner.Write(w);
            w.Write(PairTrees is not null);
            if (PairTrees is not null)
            {
                PairTrees.Write(w);
            }
            else
            {
                PairLinear!.Write(w);
                WriteDoubles(w, PairMean!);
                WriteDoubles(w, PairStd!);
            }

            WriteDoubles(w, Calibration.X);
            WriteDoubles(w, Calibration.Y);
            w.Write(Threshold);
            w.Write(MaxSuggestions);
            w.Write(CandidateK);
            w.Write(DocTypeDecision);
            w.Write(CandidateFloor);
            w.Write(Polarity is not null);
            Polarity?.Write(w);
        }

        return raw.ToArray();
    }

    public static TrainedModel FromBytes(byte[] bytes)
    {
        using var gz = new GZipStream(new MemoryStream(bytes), CompressionMode.Decompress);
        using var r = new BinaryReader(gz, Encoding.UTF8);
        if (r.ReadString() != Magic)
        {
            throw new InvalidDataException("not an Aims.Evidence trained mapper model");
        }

        var format = r.ReadInt32();
        if (format != FormatVersion)
        {
            throw new InvalidDataException($"trained model format {format} is not supported (expected {FormatVersion})");
        }

        var version = r.ReadString();
        var catalogVersion = r.ReadString();
        var summary = r.ReadString();
        var entries = ReadStrings(r);
        var docTypes = ReadStrings(r);
        var dims = r.ReadInt32();
        var profMini = QuantizedVectors.Read(r);
        var profArctic = QuantizedVectors.Read(r);
        var profEntry = ReadInts(r);
        var exMini = QuantizedVectors.Read(r);
        var exArctic = QuantizedVectors.Read(r);
        var exEntry = ReadInts(r);
        var exGroup = ReadInts(r);
        var exSource = ReadStrings(r);
        var entryPrior = ReadDoubles(r);
        var dtRows = new double[r.ReadInt32()][];
        for (var i = 0; i < dtRows.Length; i++)
        {
            dtRows[i] = ReadDoubles(r);
        }

        var entryModel = LinearModel.Read(r);
        var evidenceModel = LinearModel.Read(r);
        var docTypeModel = LinearModel.Read(r);
        var combiner = LinearModel.Read(r);
        TreeEnsemble? trees = null;
        LinearModel? linear = null;
        double[]? mean = null, std = null;
        if (r.ReadBoolean())
        {
            trees = TreeEnsemble.Read(r);
        }
        else
        {
            linear = LinearModel.Read(r);
            mean = ReadDoubles(r);
            std = ReadDoubles(r);
        }

        var calX = ReadDoubles(r);
        var calY = ReadDoubles(r);
        return new TrainedModel
        {
            Version = version,
            CatalogVersion = catalogVersion,
            Summary = summary,
            EntryIds = entries,
            DocTypes = docTypes,
            Dimensions = dims,
            ProfileMiniLM = profMini,
            ProfileArctic = profArctic,
            ProfileEntry = profEntry,
            Exemplars = new ExemplarBank { MiniLM = exMini, Arctic = exArctic, Entry = exEntry, Group = exGroup, Source = exSource },
            EntryPrior = entryPrior,
            DocTypeEntryPrior = dtRows,
            EntryModel = entryModel,
            EvidenceModel = evidenceModel,
            DocTypeModel = docTypeModel,
            DocTypeCombiner = combiner,
            PairTrees = trees,
            PairLinear = linear,
            PairMean = mean,
            PairStd = std,
            Calibration = new IsotonicCalibration { X = calX, Y = calY },
            Threshold = r.ReadDouble(),
            MaxSuggestions = r.ReadInt32(),
            CandidateK = r.ReadInt32(),
            DocTypeDecision = r.ReadString(),
            CandidateFloor = r.ReadDouble(),
            Polarity = r.ReadBoolean() ? PolarityModel.Read(r) : null,
        };
    }

    /// <summary>The model shipped with the product (an embedded resource built by <c>aims train</c>), or null when absent.</summary>
    public static TrainedModel? LoadEmbedded() => Embedded.Value;

    private static readonly Lazy<TrainedModel?> Embedded = new(() => EmbeddedBytes() is { } bytes ? FromBytes(bytes) : null);

    /// <summary>The bytes of the shipped model file, or null when the build has none.</summary>
    public static byte[]? EmbeddedBytes()
    {
        using var stream = typeof(TrainedModel).Assembly.GetManifestResourceStream("Aims.Evidence.Core.Mapping.Trained.mapper.model");
        if (stream is null)
        {
            return null;
        }

        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }

    public static string Hash(byte[] bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes))[..12];

    private static void WriteStrings(BinaryWriter w, string[] values)
    {
        w.Write(values.Length);
        foreach (var v in values)
        {
            w.Write(v);
        }
    }

    private static string[] ReadStrings(BinaryReader r)
    {
        var values = new string[r.ReadInt32()];
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = r.ReadString();
        }

        return values;
    }

    private static void WriteInts(BinaryWriter w, int[] values)
    {
        w.Write(values.Length);
        foreach (var v in values)
        {
            w.Write(v);
        }
    }

    private static int[] ReadInts(BinaryReader r)
    {
        var values = new int[r.ReadInt32()];
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = r.ReadInt32();
        }

        return values;
    }

    private static void WriteDoubles(BinaryWriter w, double[] values)
    {
        w.Write(values.Length);
        foreach (var v in values)
        {
            w.Write(v);
        }
    }

    private static double[] ReadDoubles(BinaryReader r)
    {
        var values = new double[r.ReadInt32()];
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = r.ReadDouble();
        }

        return values;
    }
}
