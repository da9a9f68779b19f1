using Aims.Evidence.Core.Catalog;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.SemanticKernel;

namespace Aims.Evidence.Core.Mapping;

/// <summary>Builds the Semantic Kernel used as the mapping engine: embedding generator in DI, catalog and retrieval plugins.</summary>
public static class KernelFactory
{
    public const string CatalogPluginName = "catalog";
    public const string CandidatesPluginName = "candidates";

    /// <summary>
    /// Creates a kernel whose services hold <paramref name="embeddingGenerator"/> (as
    /// <see cref="IEmbeddingGenerator{TInput, TEmbedding}"/>) and <paramref name="catalog"/> (default: the shipped one),
    /// with the <see cref="CatalogPlugin"/> ("catalog") and <see cref="CandidateRetrievalPlugin"/> ("candidates").
    /// The kernel does not own the generator: dispose it yourself.
    /// </summary>
    public static Kernel Create(IEmbeddingGenerator<string, Embedding<float>> embeddingGenerator, IsoCatalog? catalog = null)
    {
        ArgumentNullException.ThrowIfNull(embeddingGenerator);
        return Create(services => services.AddSingleton(embeddingGenerator), catalog);
    }

    /// <summary>As <see cref="Create(IEmbeddingGenerator{string, Embedding{float}}, IsoCatalog?)"/>, but the caller registers the generator.</summary>
    public static Kernel Create(Action<IServiceCollection> registerEmbeddings, IsoCatalog? catalog = null)
    {
        ArgumentNullException.ThrowIfNull(registerEmbeddings);
        catalog ??= IsoCatalog.Default;
        var builder = Kernel.CreateBuilder();
        builder.Services.AddSingleton(catalog);
        registerEmbeddings(builder.Services);
        builder.Plugins.AddFromObject(new CatalogPlugin(catalog), CatalogPluginName);

        // Constructed from the kernel's own service provider, so it receives the registered embedding generator.
        builder.Plugins.AddFromType<CandidateRetrievalPlugin>(CandidatesPluginName);
        return builder.Build();
    }
}
