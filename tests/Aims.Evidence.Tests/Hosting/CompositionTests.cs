using Aims.Evidence.Core.Classification;
using Aims.Evidence.Core.Extraction;
using Aims.Evidence.Core.Llm;
using Aims.Evidence.Core.Mapping;
using Aims.Evidence.Core.Mapping.Trained;
using Aims.Evidence.Hosting;
using Aims.Evidence.Onnx;
using Microsoft.Extensions.Configuration;

namespace Aims.Evidence.Tests.Hosting;

public sealed class CompositionTests
{
    private static IConfiguration Config(params (string Key, string Value)[] values) =>
        new ConfigurationBuilder().AddInMemoryCollection(values.ToDictionary(v => v.Key, v => (string?)v.Value)).Build();

    [Fact]
    public void Environment_variables_bind_through_the_standard_double_underscore_keys()
    {
        var prefix = "AIMSTEST" + Guid.NewGuid().ToString("N")[..8] + "_";
        Environment.SetEnvironmentVariable(prefix + "AIMS__MAPPING__THRESHOLD", "0.7");
        Environment.SetEnvironmentVariable(prefix + "AIMS__MAPPING__MAXSUGGESTIONS", "2");
        Environment.SetEnvironmentVariable(prefix + "AIMS__MAPPING__MAPPER", "hybrid");
        try
        {
            var settings = AimsComposition.Bind(new ConfigurationBuilder().AddEnvironmentVariables(prefix).Build());
            Assert.Equal(0.7, settings.Hybrid.Threshold);
            Assert.Equal(2, settings.Hybrid.MaxSuggestions);
            Assert.Equal(new HybridMapperOptions().VectorWeight, settings.Hybrid.VectorWeight);
            Assert.Equal(MapperKinds.Hybrid, settings.Mapping.Mapper);
        }
        finally
        {
            foreach (var key in new[] { "THRESHOLD", "MAXSUGGESTIONS", "MAPPER" })
            {
                Environment.SetEnvironmentVariable(prefix + "AIMS__MAPPING__" + key, null);
            }
        }
    }

    [Theory]
    [InlineData("Aims:Mapping:Threshold", "high", "Aims:Mapping")]
    [InlineData("Aims:Mapping:Mapper", "neural", "Aims:Mapping:Mapper")]
    [InlineData("Aims:Mapping:ModelPath", "no-such-model.bin", "Aims:Mapping:ModelPath")]
    [InlineData("Aims:Llm:Provider", "skynet", "Aims:Llm")]
    [InlineData("Aims:Extraction:MaxPages", "many", "Aims:Extraction")]
    public void A_bad_setting_fails_at_start_naming_it(string key, string value, string named)
    {
        var error = Assert.Throws<ArgumentException>(() => AimsComposition.Bind(Config((key, value))));
        Assert.Contains(named, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Extraction_limits_bind_from_their_section_including_the_passage_cap()
    {
        var settings = AimsComposition.Bind(Config(("Aims:Extraction:MaxPassages", "123"), ("Aims:Extraction:MaxTextChars", "4567")));
        Assert.Equal(123, settings.Limits.MaxPassages);
        Assert.Equal(4567, settings.Limits.MaxTextChars);
        Assert.Equal(ExtractionLimits.Default.MaxPages, settings.Limits.MaxPages);
        Assert.Equal(5_000, AimsComposition.Bind(Config()).Limits.MaxPassages);
    }

    [Fact]
    public void Defaults_build_the_trained_mapper_and_classifier_when_the_model_ships()
    {
        using var components = AimsComposition.Create(AimsComposition.Bind(Config()), new InMemoryLlmLedger());
        if (TrainedModel.LoadEmbedded() is null)
        {
            Assert.IsType<HybridControlMapper>(components.Mapper);
            Assert.Equal(MapperKinds.Hybrid, components.Settings.Mapping.Mapper);
            return;
        }

        var polarity = Assert.IsType<PolarityMapper>(components.Mapper);
        Assert.IsType<TrainedControlMapper>(polarity.Inner);
        Assert.IsType<TrainedDocumentClassifier>(components.Classifier);
        Assert.Equal(MapperKinds.Trained, components.Settings.Mapping.Mapper);

        // The two encoders run side by side, so each ONNX session gets half the cores.
        var miniLM = Assert.IsType<LocalEmbeddingGenerator>(components.Embeddings);
        Assert.Equal(Math.Max(1, Environment.ProcessorCount / 2), miniLM.Options.IntraOpThreads);
    }

    [Fact]
    public void Lexical_builds_no_embedding_model_but_still_decides_polarity()
    {
        using var components = AimsComposition.Create(AimsComposition.Bind(Config(("Aims:Mapping:Mapper", "lexical"))), new InMemoryLlmLedger());
        Assert.IsType<LexicalControlMapper>(Assert.IsType<PolarityMapper>(components.Mapper).Inner);
        Assert.IsType<LexicalDocumentClassifier>(components.Classifier);
    }
}
