using Aims.Evidence.Core.Catalog;
using Microsoft.Extensions.AI;

namespace Aims.Evidence.Core.Mapping;

/// <summary>One retrieved catalog entry: the best cosine between the passage and any of the entry's profile texts.</summary>
public sealed record CandidateHit(string Id, string Title, float Score)
{
    /// <summary>The profile text (example evidence statement, or title and summary) the passage was closest to.</summary>
    public string? MatchedText { get; init; }
}

/// <summary>Embedded profile texts of the mappable catalog entries.</summary>
public sealed class ProfileIndex
{
    private readonly CatalogEntry[] _entries;
    private readonly int[] _owner;
    private readonly float[][] _vectors;
    private readonly string[] _texts;

    private ProfileIndex(CatalogEntry[] entries, int[] owner, float[][] vectors, string[] texts)
    {
        _entries = entries;
        _owner = owner;
        _vectors = vectors;
        _texts = texts;
    }

    public int EntryCount => _entries.Length;

    public int VectorCount => _vectors.Length;

    /// <summary>The texts that represent an entry: its profile examples and "title. summary".</summary>
    public static IEnumerable<string> ProfileTexts(CatalogEntry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        foreach (var example in entry.Profile.Examples)
        {
            yield return example;
        }

        yield return string.IsNullOrWhiteSpace(entry.Summary) ? entry.Title : $"{entry.Title}. {entry.Summary}";
    }

    public static async Task<ProfileIndex> BuildAsync(
        IsoCatalog catalog,
        IEmbeddingGenerator<string, Embedding<float>> generator,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentNullException.ThrowIfNull(generator);
        var entries = catalog.Mappable.ToArray();
        var texts = new List<string>();
        var owner = new List<int>();
        for (var i = 0; i < entries.Length; i++)
        {
            foreach (var text in ProfileTexts(entries[i]))
            {
                texts.Add(text);
                owner.Add(i);
            }
        }

        var embeddings = await generator.GenerateAsync(texts, cancellationToken: cancellationToken).ConfigureAwait(false);
        var vectors = embeddings.Select(e => VectorMath.Normalize(e.Vector.Span)).ToArray();
        return new ProfileIndex(entries, [.. owner], vectors, [.. texts]);
    }

    /// <summary>
    /// A cache of the index for one catalog and generator: built once on first use (without the caller's token, since
    /// other callers share it); a failed or cancelled build is tried again on the next call.
    /// </summary>
    public static Func<CancellationToken, Task<ProfileIndex>> Lazy(IsoCatalog catalog, IEmbeddingGenerator<string, Embedding<float>> generator)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentNullException.ThrowIfNull(generator);
        Task<ProfileIndex>? built = null;
        return cancellationToken =>
        {
            var task = Volatile.Read(ref built);
            if (task is null || task.IsFaulted || task.IsCanceled)
            {
                var created = BuildAsync(catalog, generator, CancellationToken.None);
                var previous = Interlocked.CompareExchange(ref built, created, task);
                task = previous == task ? created : previous!;
            }

            return task.WaitAsync(cancellationToken);
        };
    }

    /// <summary>Entries ranked by max cosine over their profile vectors; <paramref name="query"/> must be normalised.</summary>
    public IReadOnlyList<CandidateHit> Rank(ReadOnlySpan<float> query, int k)
    {
        var best = new float[_entries.Length];
        var bestText = new int[_entries.Length];
        Array.Fill(best, float.NegativeInfinity);
        for (var v = 0; v < _vectors.Length; v++)
        {
            var score = VectorMath.Dot(query, _vectors[v]);
            if (score > best[_owner[v]])
            {
                best[_owner[v]] = score;
                bestText[_owner[v]] = v;
            }
        }

        return [.. Enumerable.Range(0, _entries.Length)
            .OrderByDescending(i => best[i])
            .ThenBy(i => i)
            .Take(k)
            .Select(i => new CandidateHit(_entries[i].Id, _entries[i].Title, best[i]) { MatchedText = _texts[bestText[i]] })];
    }
}
