using Aims.Evidence.Core.Catalog;
using Aims.Evidence.Core.Mapping;
using Aims.Evidence.Onnx;
using Microsoft.Extensions.AI;

namespace Aims.Evidence.Tests.Embeddings;

/// <summary>One loaded model per test class run (loading costs about a second and ~100 MB).</summary>
public sealed class MiniLMFixture : IDisposable
{
    public LocalEmbeddingGenerator Generator { get; } = new(LocalEmbeddingModel.MiniLM);

    public void Dispose() => Generator.Dispose();
}

[Trait(Tiers.Name, Tiers.Integration)]
public sealed class LocalEmbeddingGeneratorTests(MiniLMFixture fixture) : IClassFixture<MiniLMFixture>
{
    private readonly LocalEmbeddingGenerator _generator = fixture.Generator;

    [Theory]
    [InlineData(LocalEmbeddingModel.MiniLM)]
    [InlineData(LocalEmbeddingModel.ArcticXs)]
    public async Task Returns_384_dimensional_normalised_vectors_and_metadata(LocalEmbeddingModel model)
    {
        using var generator = model == LocalEmbeddingModel.MiniLM ? null : new LocalEmbeddingGenerator(model);
        var g = generator ?? _generator;

        var result = await g.GenerateAsync(["The model card states the intended use of the system.", "", "Short."], cancellationToken: TestContext.Current.CancellationToken);

        Assert.Equal(3, result.Count);
        foreach (var embedding in result)
        {
            Assert.Equal(384, embedding.Vector.Length);
            Assert.Equal(1.0, VectorMath.Norm(embedding.Vector.Span), 4);
            Assert.Equal(LocalEmbeddingGenerator.ModelIdOf(model), embedding.ModelId);
        }

        var metadata = g.GetService<EmbeddingGeneratorMetadata>();
        Assert.NotNull(metadata);
        Assert.Equal("aims-local-onnx", metadata.ProviderName);
        Assert.Equal(LocalEmbeddingGenerator.ModelIdOf(model), metadata.DefaultModelId);
        Assert.Equal(384, metadata.DefaultModelDimensions);
    }

    [Fact]
    public async Task Close_sentences_score_higher_than_unrelated_ones()
    {
        var ct = TestContext.Current.CancellationToken;
        var anchor = await _generator.GenerateVectorAsync("We assess the impact of the AI system on individuals and society before deployment.", cancellationToken: ct);
        var close = await _generator.GenerateVectorAsync("An AI impact assessment considers effects on people and communities prior to release.", cancellationToken: ct);
        var unrelated = await _generator.GenerateVectorAsync("The canteen is open from eight until three on weekdays.", cancellationToken: ct);

        var near = VectorMath.Dot(anchor.Span, close.Span);
        var far = VectorMath.Dot(anchor.Span, unrelated.Span);
        Assert.True(near > far + 0.2f, $"close {near:F3} vs unrelated {far:F3}");
    }

    [Fact]
    public async Task Batching_gives_the_same_vectors_as_one_by_one()
    {
        var ct = TestContext.Current.CancellationToken;
        string[] texts =
        [
            "Training data provenance is recorded for every dataset.",
            "Incidents involving the AI system are reported to the AI governance board within 24 hours, and a root-cause analysis is documented.",
            "Roles and responsibilities for AI are defined.",
            "Users are informed when they interact with an AI system, and the limitations of the system are explained in plain language in the product documentation.",
            "Data quality checks run before each training cycle.",
        ];
        using var smallBatches = new LocalEmbeddingGenerator(new LocalEmbeddingOptions { BatchSize = 2 });

        var batched = await _generator.GenerateAsync(texts, cancellationToken: ct);
        var batchedSmall = await smallBatches.GenerateAsync(texts, cancellationToken: ct);
        for (var i = 0; i < texts.Length; i++)
        {
            var single = (await _generator.GenerateAsync([texts[i]], cancellationToken: ct))[0].Vector.Span;
            for (var d = 0; d < 384; d++)
            {
                Assert.Equal(single[d], batched[i].Vector.Span[d], 1e-5f);
                Assert.Equal(single[d], batchedSmall[i].Vector.Span[d], 1e-5f);
            }
        }
    }

    [Fact]
    public void Defaults_keep_the_onnx_arena_and_bound_batches_by_characters()
    {
        var options = new LocalEmbeddingOptions();
        Assert.True(options.UseMemoryArena);
        Assert.Equal(LocalEmbeddingOptions.DefaultMaxBatchChars, options.MaxBatchChars);
        Assert.Equal(32, options.BatchSize);
    }

    [Fact]
    public async Task Arena_off_and_fixed_batches_give_the_same_vectors_as_the_defaults()
    {
        var ct = TestContext.Current.CancellationToken;
        var longText = string.Join(' ', Enumerable.Repeat("The provider documents the intended use and the foreseeable misuse of the AI system.", 30));
        string[] texts =
        [
            "Roles and responsibilities for AI are defined.",
            longText,
            "Incidents involving the AI system are reported to the AI governance board within 24 hours.",
            longText + " Appendix.",
            "Data quality checks run before each training cycle.",
        ];
        using var legacy = new LocalEmbeddingGenerator(new LocalEmbeddingOptions { UseMemoryArena = false, MaxBatchChars = 0 });

        var defaults = await _generator.GenerateAsync(texts, cancellationToken: ct);
        var fixedBatches = await legacy.GenerateAsync(texts, cancellationToken: ct);
        for (var i = 0; i < texts.Length; i++)
        {
            for (var d = 0; d < 384; d++)
            {
                Assert.Equal(fixedBatches[i].Vector.Span[d], defaults[i].Vector.Span[d], 1e-5f);
            }
        }
    }

    [Fact]
    public async Task One_intra_op_thread_gives_the_same_vectors_as_the_default_threads()
    {
        var ct = TestContext.Current.CancellationToken;
        string[] texts =
        [
            "Roles and responsibilities for AI are defined.",
            string.Join(' ', Enumerable.Repeat("The provider documents the intended use and the foreseeable misuse of the AI system.", 12)),
            "Incidents involving the AI system are reported to the AI governance board within 24 hours.",
        ];
        using var single = new LocalEmbeddingGenerator(new LocalEmbeddingOptions { IntraOpThreads = 1 });

        var defaults = await _generator.GenerateAsync(texts, cancellationToken: ct);
        var oneThread = await single.GenerateAsync(texts, cancellationToken: ct);
        for (var i = 0; i < texts.Length; i++)
        {
            for (var d = 0; d < 384; d++)
            {
                Assert.Equal(defaults[i].Vector.Span[d], oneThread[i].Vector.Span[d], 1e-6f);
            }
        }
    }

    [Fact]
    public void Very_long_inputs_are_cut_to_the_word_limit()
    {
        var text = string.Join("  ", Enumerable.Repeat("word", 1000));
        Assert.Equal(200, _generator.Prepare(text).Split(' ').Length);
    }

    [Fact]
    public async Task Very_long_input_embeds()
    {
        var text = string.Join(' ', Enumerable.Repeat("The provider documents the intended use and the foreseeable misuse of the AI system.", 80));
        var vector = await _generator.GenerateVectorAsync(text, cancellationToken: TestContext.Current.CancellationToken);
        Assert.Equal(384, vector.Length);
    }

    [Fact]
    public async Task Profile_index_ranks_the_entries_closest_to_a_passage()
    {
        var ct = TestContext.Current.CancellationToken;
        var index = await ProfileIndex.Lazy(IsoCatalog.Default, _generator)(ct);
        Assert.Equal(IsoCatalog.Default.Mappable.Count(), index.EntryCount);

        var query = await _generator.GenerateVectorAsync("This document describes the intended use of the model and the uses it is not designed for.", cancellationToken: ct);
        var hits = index.Rank(query.Span, 5);

        Assert.Equal(5, hits.Count);
        Assert.All(hits, h => Assert.True(IsoCatalog.Default.Contains(h.Id), h.Id));
        Assert.Equal(hits.Count, hits.Select(h => h.Id).Distinct().Count());
        Assert.Equal(hits.OrderByDescending(h => h.Score).Select(h => h.Id), hits.Select(h => h.Id));
        Assert.Contains(hits, h => h.Id == "A.9.4");
        Assert.All(hits, h => Assert.False(string.IsNullOrWhiteSpace(h.MatchedText)));
    }
}
