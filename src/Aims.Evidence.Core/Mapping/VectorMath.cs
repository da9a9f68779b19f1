using System.Numerics.Tensors;

namespace Aims.Evidence.Core.Mapping;

/// <summary>Similarity on embedding vectors (SIMD through <see cref="TensorPrimitives"/>).</summary>
public static class VectorMath
{
    /// <summary>Dot product; equals cosine when both vectors are L2-normalised (as our embedding generators return).</summary>
    public static float Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        if (a.Length != b.Length)
        {
            throw new ArgumentException($"Vector lengths differ ({a.Length} vs {b.Length}).", nameof(b));
        }

        return TensorPrimitives.Dot(a, b);
    }

    /// <summary>Cosine similarity of arbitrary (not necessarily normalised) vectors; 0 when either is all zeros.</summary>
    public static float Cosine(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        if (a.Length != b.Length)
        {
            throw new ArgumentException($"Vector lengths differ ({a.Length} vs {b.Length}).", nameof(b));
        }

        var na = TensorPrimitives.Norm(a);
        var nb = TensorPrimitives.Norm(b);
        return na == 0f || nb == 0f ? 0f : TensorPrimitives.Dot(a, b) / (na * nb);
    }

    /// <summary>Euclidean norm.</summary>
    public static float Norm(ReadOnlySpan<float> a) => TensorPrimitives.Norm(a);

    /// <summary>Returns a normalised copy (a zero vector stays zero).</summary>
    public static float[] Normalize(ReadOnlySpan<float> a)
    {
        var result = a.ToArray();
        var norm = TensorPrimitives.Norm(a);
        if (norm > 0f)
        {
            TensorPrimitives.Divide(result, norm, result);
        }

        return result;
    }
}
