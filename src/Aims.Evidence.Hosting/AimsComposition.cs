using Aims.Evidence.Core.Catalog;
using Aims.Evidence.Core.Classification;
using Aims.Evidence.Core.Extraction;
using Aims.Evidence.Core.Inventory;
using Aims.Evidence.Core.Llm;
using Aims.Evidence.Core.Mapping;
using Aims.Evidence.Core.Mapping.Trained;
using Aims.Evidence.Onnx;
using Aims.Evidence.OpenAI;
using Azure.Core;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.SemanticKernel;

namespace Aims.Evidence.Hosting;

/// <summary>Which embedded mapper maps passages (<c>Aims:Mapping:Mapper</c>).</summary>
public static class MapperKinds
{
    /// <summary>The trained, calibrated scorer over both packaged encoders (the default when the model is present).</summary>
    public const string Trained = "trained";

    /// <summary>Embedding similarity to our profile statements + BM25 + structure, hand-weighted.</summary>
    public const string Hybrid = "hybrid";

    /// <summary>BM25 over the profiles only: no model to load; fastest, least accurate.</summary>
    public const string Lexical = "lexical";
}

/// <summary>Section <c>Aims:Mapping</c> (environment <c>AIMS__MAPPING__*</c>); the hybrid mapper's weights bind from the same section.</summary>
public sealed record MappingOptions
{
    public const string Section = "Aims:Mapping";

    /// <summary>trained (default), hybrid or lexical.</summary>
    public string Mapper { get; init; } = MapperKinds.Trained;

    /// <summary>A model file written by <c>aims train</c>; empty: the model shipped inside the product.</summary>
    public string? ModelPath { get; init; }
}

/// <summary>Every setting the pipeline's components are built from, bound once from <c>Aims:*</c>.</summary>
public sealed record AimsSettings
{
    public MappingOptions Mapping { get; init; } = new();

    public HybridMapperOptions Hybrid { get; init; } = new();

    public LlmOptions Llm { get; init; } = new();

    /// <summary>Section <c>Aims:Extraction</c>.</summary>
    public ExtractionLimits Limits { get; init; } = ExtractionLimits.Default;
}

/// <summary>What a host lends the composition: its identity for Azure OpenAI, extractor overrides, logging.</summary>
public sealed record AimsHostServices
{
    public TokenCredential? Credential { get; init; }

    /// <summary>Extractors that replace the built-in ones for their media types (e.g. Document Intelligence for PDFs).</summary>
    public IReadOnlyList<IDocumentExtractor> ExtractorOverrides { get; init; } = [];

    public ILoggerFactory? LoggerFactory { get; init; }
}

/// <summary>
/// The one composition root: binds <c>Aims:Mapping</c>, <c>Aims:Llm</c> and <c>Aims:Extraction</c> through the
/// configuration binder (validated, failing with the setting's name) and builds the extractor, classifier, mapper,
/// embeddings and LLM once. The CLI (ingest, eval, serve) and the Functions app all call it; nothing else constructs
/// a classifier or a mapper.
/// </summary>
public static class AimsComposition
{
    /// <summary>appsettings.json next to the binary, then environment variables (<c>AIMS__SECTION__KEY</c>).</summary>
    public static IConfiguration LoadConfiguration(string? baseDirectory = null) => new ConfigurationBuilder()
        .AddJsonFile(Path.Combine(baseDirectory ?? AppContext.BaseDirectory, "appsettings.json"), optional: true, reloadOnChange: false)
        .AddEnvironmentVariables()
        .Build();

    /// <summary>Binds and validates every setting the components need; a bad value fails here, naming its setting.</summary>
    public static AimsSettings Bind(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var mappingSection = configuration.GetSection(MappingOptions.Section);
        var mapping = Get<MappingOptions>(mappingSection) ?? new MappingOptions();
        var kind = (mapping.Mapper ?? string.Empty).Trim().ToLowerInvariant();
        if (kind is not (MapperKinds.Trained or MapperKinds.Hybrid or MapperKinds.Lexical))
        {
            throw new ArgumentException($"Aims:Mapping:Mapper must be trained, hybrid or lexical (got '{mapping.Mapper}')");
        }

        if (!string.IsNullOrWhiteSpace(mapping.ModelPath) && !File.Exists(mapping.ModelPath))
        {
            throw new ArgumentException($"Aims:Mapping:ModelPath names no file: {mapping.ModelPath}");
        }

        var hybrid = Get<HybridMapperOptions>(mappingSection) ?? new HybridMapperOptions();
        if (hybrid.Threshold is < 0 or > 1 || hybrid.MaxSuggestions < 1 || hybrid.BatchSize < 1)
        {
            throw new ArgumentException("Aims:Mapping:Threshold must be in [0,1], Aims:Mapping:MaxSuggestions and Aims:Mapping:BatchSize at least 1");
        }

        var llmSection = configuration.GetSection("Aims:Llm");
        LlmOptions llm;
        try
        {
            llm = (Get<LlmOptions>(llmSection) ?? new LlmOptions()).Validated();
        }
        catch (ArgumentException ex) when (!ex.Message.Contains("Aims:Llm", StringComparison.Ordinal))
        {
            throw new ArgumentException($"Aims:Llm: {ex.Message}", ex);
        }

        var limits = Get<ExtractionLimits>(configuration.GetSection("Aims:Extraction")) ?? ExtractionLimits.Default;
        return new AimsSettings { Mapping = mapping with { Mapper = kind }, Hybrid = hybrid, Llm = llm, Limits = limits };
    }

    /// <summary>
    /// Binds the section <paramref name="section"/> (e.g. <c>Aims:Azure</c>) as every <c>Aims:*</c> section is bound:
    /// unknown keys are ignored, a value of the wrong type fails naming the section; a missing section gives the defaults.
    /// </summary>
    public static T BindSection<T>(IConfiguration configuration, string section)
        where T : new()
    {
        ArgumentNullException.ThrowIfNull(configuration);
        ArgumentException.ThrowIfNullOrWhiteSpace(section);
        return Get<T>(configuration.GetSection(section)) ?? new T();
    }

    /// <summary>
    /// Registers <typeparamref name="T"/> as options bound from <paramref name="section"/> the same way (validated
    /// when the host starts), for the sections a host reads through <c>IOptions</c> (<c>Aims:Api</c>, <c>Aims:Tasks</c>,
    /// <c>Aims:Notifications</c>).
    /// </summary>
    public static OptionsBuilder<T> AddAimsSection<T>(this IServiceCollection services, IConfiguration configuration, string section)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        return services.AddOptions<T>().Bind(configuration.GetSection(section), o => o.ErrorOnUnknownConfiguration = false).ValidateOnStart();
    }

    private static T? Get<T>(IConfigurationSection section)
    {
        try
        {
            return section.Get<T>(o => o.ErrorOnUnknownConfiguration = false);
        }
        catch (InvalidOperationException ex)
        {
            throw new ArgumentException($"{section.Path}: {ex.Message}", ex);
        }
    }

    /// <summary>
    /// Registers the components (<see cref="AimsComponents"/> and its parts as services) from <paramref name="configuration"/>.
    /// The host registers its store and may register an <see cref="ILlmLedger"/> and a <see cref="TokenCredential"/>.
    /// </summary>
    public static IServiceCollection AddAimsEvidence(this IServiceCollection services, IConfiguration configuration, Func<IServiceProvider, AimsHostServices>? host = null) =>
        services.AddAimsEvidence(Bind(configuration), host);

    /// <summary>As <see cref="AddAimsEvidence(IServiceCollection, IConfiguration, Func{IServiceProvider, AimsHostServices}?)"/>, with settings the host bound once (<see cref="Bind"/>).</summary>
    public static IServiceCollection AddAimsEvidence(this IServiceCollection services, AimsSettings settings, Func<IServiceProvider, AimsHostServices>? host = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(settings);
        services.AddSingleton(settings);
        services.AddSingleton(settings.Llm);
        services.AddSingleton(IsoCatalog.Default);
        services.AddSingleton(sp => Create(
            settings,
            sp.GetService<ILlmLedger>() ?? new InMemoryLlmLedger(),
            host?.Invoke(sp) ?? new AimsHostServices { Credential = sp.GetService<TokenCredential>(), LoggerFactory = sp.GetService<ILoggerFactory>() }));
        services.AddSingleton(sp => sp.GetRequiredService<AimsComponents>().Reader);
        services.AddSingleton(sp => sp.GetRequiredService<AimsComponents>().Classifier);
        services.AddSingleton(sp => sp.GetRequiredService<AimsComponents>().Mapper);
        services.TryAddSingleton(sp => sp.GetRequiredService<AimsComponents>().Embeddings);
        return services;
    }

    /// <summary>Builds extractor, classifier, mapper, embeddings and LLM from settings: the only place that does.</summary>
    public static AimsComponents Create(AimsSettings settings, ILlmLedger ledger, AimsHostServices? host = null)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(ledger);
        host ??= new AimsHostServices();
        var catalog = IsoCatalog.Default;
        var owned = new List<IDisposable>();
        var reader = host.ExtractorOverrides.Count == 0 ? DocumentReader.CreateDefault() : DocumentReader.CreateWith([.. host.ExtractorOverrides]);
        var llm = settings.Llm;
        var kind = settings.Mapping.Mapper;

        // A trained model from the setting's file, else the shipped one; without either, trained falls back to hybrid.
        TrainedModel? model = null;
        if (kind == MapperKinds.Trained)
        {
            model = string.IsNullOrWhiteSpace(settings.Mapping.ModelPath)
                ? TrainedModel.LoadEmbedded()
                : TrainedModel.FromBytes(File.ReadAllBytes(settings.Mapping.ModelPath));
            kind = model is null ? MapperKinds.Hybrid : kind;
        }

        // Embeddings: the bundled MiniLM (no key, no network) or an Azure OpenAI deployment; they feed the hybrid
        // mapper, the AI Search vector field and the LLM kernel. The trained mapper always reads both bundled encoders.
        ServiceProvider? http = null;
        HttpClient? client = null;
        if (llm.Enabled || llm.AzureOpenAIEmbeddings)
        {
            http = LlmComposition.CreateHttpServices(llm);
            client = http.GetRequiredService<IHttpClientFactory>().CreateClient(LlmComposition.HttpClientName);
            owned.Add(client);
            owned.Add(http);
        }

        var credential = llm.UseEntraId ? host.Credential ?? new Azure.Identity.DefaultAzureCredential() : null;
        // The trained mapper runs its two encoders side by side (PassageEncoder): each session gets half the cores.
        var onnxThreads = kind == MapperKinds.Trained ? Math.Max(1, Environment.ProcessorCount / 2) : 0;
        var miniLM = new LocalEmbeddingGenerator(new LocalEmbeddingOptions { Model = LocalEmbeddingModel.MiniLM, IntraOpThreads = onnxThreads });
        owned.Add(miniLM);
        IEmbeddingGenerator<string, Embedding<float>> embeddings = miniLM;
        if (llm.AzureOpenAIEmbeddings)
        {
            var provider = LlmComposition.CreateAzureOpenAIEmbeddingServices(llm, client!, credential);
            owned.Add(provider);
            embeddings = provider.GetRequiredService<IEmbeddingGenerator<string, Embedding<float>>>();
        }

        PassageEncoder? encoder = null;
        if (kind == MapperKinds.Trained)
        {
            var arctic = new LocalEmbeddingGenerator(new LocalEmbeddingOptions { Model = LocalEmbeddingModel.ArcticXs, IntraOpThreads = onnxThreads });
            owned.Add(arctic);
            encoder = new PassageEncoder(miniLM, arctic);
        }

        ICandidateProposer? proposer = kind switch
        {
            MapperKinds.Trained => new TrainedControlMapper(model!, encoder!, catalog),
            MapperKinds.Hybrid => new HybridControlMapper(embeddings, settings.Hybrid, catalog),
            _ => null,
        };
        IDocumentClassifier classifier = kind switch
        {
            MapperKinds.Trained => new TrainedDocumentClassifier(model!, encoder!, new EmbeddingDocumentClassifier(miniLM)),
            MapperKinds.Hybrid => new EmbeddingDocumentClassifier(embeddings),
            _ => new LexicalDocumentClassifier(),
        };
        IControlMapper mapper = proposer ?? (IControlMapper)new LexicalControlMapper(catalog);
        Kernel? kernel = null;
        IAiSystemLister? systemLister = null;
        if (llm.Enabled)
        {
            kernel = LlmComposition.CreateKernel(llm, client!, credential);

            // The LLM judges the candidates of the embedded engine (the lexical choice still needs one to propose).
            proposer ??= new HybridControlMapper(embeddings, settings.Hybrid, catalog);
            // One token account for every LLM stage of this composition: the budget bounds a run's spend in all of them.
            var budget = new LlmTokenBudget(llm.TokenBudget);
            var judged = new LlmControlMapper(proposer, kernel, llm, ledger, catalog, logger: host.LoggerFactory?.CreateLogger<LlmControlMapper>(), budget: budget);
            owned.Add(judged);
            mapper = judged;
            if (llm.ClassifyDocuments)
            {
                classifier = new LlmDocumentClassifier(classifier, kernel, llm, ledger, budget: budget);
            }

            if (llm.ListAiSystems)
            {
                systemLister = new LlmAiSystemLister(kernel, llm, ledger, logger: host.LoggerFactory?.CreateLogger<LlmAiSystemLister>(), budget: budget);
            }
        }

        // Every mapper's suggestions get their polarity (finding or supporting) from the shipped model's polarity part.
        if ((model ?? TrainedModel.LoadEmbedded())?.Polarity is { } polarity)
        {
            mapper = new PolarityMapper(mapper, polarity);
        }

        return new AimsComponents(settings with { Mapping = settings.Mapping with { Mapper = kind } }, catalog, reader, classifier, mapper, embeddings, kernel, owned, systemLister);
    }
}

/// <summary>The pipeline's components as the composition root built them; disposes what it created.</summary>
public sealed class AimsComponents(
    AimsSettings settings,
    IsoCatalog catalog,
    IDocumentReader reader,
    IDocumentClassifier classifier,
    IControlMapper mapper,
    IEmbeddingGenerator<string, Embedding<float>> embeddings,
    Kernel? kernel,
    IReadOnlyList<IDisposable> owned,
    IAiSystemLister? systemLister = null) : IDisposable
{
    /// <summary>The LLM pass of the AI-system inventory (null without an LLM or with Aims:Llm:ListAiSystems off).</summary>
    public IAiSystemLister? SystemLister { get; } = systemLister;

    /// <summary>The settings in effect (the mapper is the one actually built, e.g. hybrid when no trained model exists).</summary>
    public AimsSettings Settings { get; } = settings;

    public IsoCatalog Catalog { get; } = catalog;

    public IDocumentReader Reader { get; } = reader;

    public IDocumentClassifier Classifier { get; } = classifier;

    public IControlMapper Mapper { get; } = mapper;

    /// <summary>The text embedding model of search indexes and the hybrid mapper.</summary>
    public IEmbeddingGenerator<string, Embedding<float>> Embeddings { get; } = embeddings;

    /// <summary>The Semantic Kernel of the LLM mode (null without an LLM).</summary>
    public Kernel? Kernel { get; } = kernel;

    public void Dispose()
    {
        foreach (var d in owned.Reverse())
        {
            d.Dispose();
        }
    }
}
