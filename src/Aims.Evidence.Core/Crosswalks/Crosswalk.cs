using System.Collections.Frozen;
using System.Text.Json;
using Aims.Evidence.Core.Catalog;

namespace Aims.Evidence.Core.Crosswalks;

/// <summary>How far the related ISO/IEC 42001 entries go towards a target requirement.</summary>
public enum CrosswalkRelation
{
    /// <summary>No ISO/IEC 42001 entry relates: the AI management system's evidence cannot show the requirement.</summary>
    None,

    /// <summary>The related entries address part of the requirement: their evidence never makes it fully covered.</summary>
    Partial,

    /// <summary>The related entries together ask for what the requirement asks (for ISO/IEC 27001: the harmonized clauses).</summary>
    Equivalent,
}

/// <summary>One requirement of another framework (an ISO/IEC 27001 clause or control, an AI RMF subcategory, an AI Act article) and the ISO/IEC 42001 entries related to it.</summary>
public sealed record CrosswalkRequirement
{
    /// <summary>The framework's own identifier: "A.5.23", "MEASURE 2.11", "Art. 27".</summary>
    public required string Id { get; init; }

    /// <summary>A short title in our own words (never the framework's text).</summary>
    public required string Title { get; init; }

    /// <summary>Where the requirement sits: clause, Annex A theme, function and category, chapter.</summary>
    public required string Group { get; init; }

    public required CrosswalkRelation Relation { get; init; }

    /// <summary>Related ISO/IEC 42001 clause or Annex A control ids (never containers); empty when <see cref="Relation"/> is None.</summary>
    public IReadOnlyList<string> Related { get; init; } = [];

    /// <summary>The public source of the row: where the requirement, or the relation, is published.</summary>
    public required string Source { get; init; }

    /// <summary>Why the relation is what it is, when that needs saying.</summary>
    public string? Note { get; init; }
}

/// <summary>A framework's crosswalk to ISO/IEC 42001: its requirements, each with related entries and a source.</summary>
public sealed record Crosswalk
{
    /// <summary>"iso27001", "nist-ai-rmf", "eu-ai-act".</summary>
    public required string Id { get; init; }

    public required string Title { get; init; }

    public required string Version { get; init; }

    /// <summary>The framework's public home (standard page, publication DOI, Official Journal).</summary>
    public required string Source { get; init; }

    /// <summary>How the relations were decided, in our words.</summary>
    public required string Basis { get; init; }

    public required IReadOnlyList<CrosswalkRequirement> Requirements { get; init; }
}

/// <summary>
/// The crosswalks shipped inside the product (embedded resources <c>Catalog/Crosswalks/*.json</c>): ISO/IEC 27001:2022,
/// the NIST AI RMF 1.0 and the EU AI Act, each requirement related to ISO/IEC 42001 entries of <see cref="IsoCatalog"/>.
/// </summary>
public sealed class CrosswalkCatalog
{
    private const string ResourcePrefix = "Aims.Evidence.Core.Catalog.Crosswalks.";

    /// <summary>The frameworks in the order every output lists them.</summary>
    public static IReadOnlyList<string> Ids { get; } = ["iso27001", "nist-ai-rmf", "eu-ai-act"];

    private static readonly Lazy<CrosswalkCatalog> Embedded = new(LoadEmbedded);

    private readonly FrozenDictionary<string, Crosswalk> _byId;

    public CrosswalkCatalog(IReadOnlyList<Crosswalk> frameworks)
    {
        ArgumentNullException.ThrowIfNull(frameworks);
        Frameworks = frameworks;
        _byId = frameworks.ToFrozenDictionary(f => f.Id, StringComparer.OrdinalIgnoreCase);
    }

    public static CrosswalkCatalog Default => Embedded.Value;

    public IReadOnlyList<Crosswalk> Frameworks { get; }

    /// <summary>The framework with this id (case-insensitive), if shipped.</summary>
    public bool TryGet(string? id, out Crosswalk? framework)
    {
        framework = null;
        return id is not null && _byId.TryGetValue(id.Trim(), out framework);
    }

    private static CrosswalkCatalog LoadEmbedded()
    {
        var assembly = typeof(CrosswalkCatalog).Assembly;
        var frameworks = Ids.Select(id =>
        {
            using var stream = assembly.GetManifestResourceStream(ResourcePrefix + id + ".json")
                ?? throw new InvalidOperationException($"Embedded crosswalk {id}.json is missing.");
            return JsonSerializer.Deserialize<Crosswalk>(stream, IsoCatalog.JsonOptions)
                ?? throw new InvalidOperationException($"Embedded crosswalk {id}.json is empty.");
        }).ToArray();
        return new CrosswalkCatalog(frameworks);
    }
}
