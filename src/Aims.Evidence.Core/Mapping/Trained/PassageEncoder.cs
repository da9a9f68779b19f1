using System.Runtime.CompilerServices;
using Aims.Evidence.Core.Segmentation;
using Microsoft.Extensions.AI;

namespace Aims.Evidence.Core.Mapping.Trained;

/// <summary>
/// Embeds passages with both packaged encoders once: the document classifier and the mapper of the same ingestion
/// share the vectors (kept per <see cref="Passage"/> instance while it is alive).
/// </summary>
public sealed class PassageEncoder(IEmbeddingGenerator<string, Embedding<float>> miniLM, IEmbeddingGenerator<string, Embedding<float>> arctic)
{
    private readonly ConditionalWeakTable<Passage, Vectors> _cache = [];

    public async Task<IReadOnlyList<(float[] MiniLM, float[] Arctic)>> EncodeAsync(IReadOnlyList<Passage> passages, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(passages);
        var result = new (float[], float[])[passages.Count];
        var missing = new List<int>();
        for (var i = 0; i < passages.Count; i++)
        {
            if (_cache.TryGetValue(passages[i], out var v))
            {
                result[i] = (v.MiniLM, v.Arctic);
            }
            else
            {
                missing.Add(i);
            }
        }

        if (missing.Count > 0)
        {
            var texts = missing.Select(i => Text(passages[i])).ToArray();
            // Both encoders at once, each on its own thread (the composition gives each ONNX session one intra-op
            // thread per pair of cores): two small single-threaded runs side by side use two cores better than one
            // run split across both. The vectors are the same either way.
            var miniTask = Task.Run(() => miniLM.GenerateAsync(texts, cancellationToken: cancellationToken), cancellationToken);
            var arcTask = Task.Run(() => arctic.GenerateAsync(texts, cancellationToken: cancellationToken), cancellationToken);
            await Task.WhenAll(miniTask, arcTask).ConfigureAwait(false);
            var mini = await miniTask.ConfigureAwait(false);
            var arc = await arcTask.ConfigureAwait(false);
            for (var k = 0; k < missing.Count; k++)
            {
                var v = new Vectors(mini[k].Vector.ToArray(), arc[k].Vector.ToArray());
                _cache.AddOrUpdate(passages[missing[k]], v);
                result[missing[k]] = (v.MiniLM, v.Arctic);
            }
        }

        return result;
    }

    /// <summary>What is embedded: the nearest heading, then the passage.</summary>
    public static string Text(Passage passage)
    {
        ArgumentNullException.ThrowIfNull(passage);
        return passage.Headings.Count > 0 ? passage.Headings[^1] + ": " + passage.Text : passage.Text;
    }

    private sealed record Vectors(float[] MiniLM, float[] Arctic);
}
