using System.Collections.Frozen;
using System.Diagnostics.CodeAnalysis;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Aims.Evidence.Core.Catalog;

/// <summary>
/// The ISO/IEC 42001:2023 catalog shipped inside the product (embedded resource <c>catalog.json</c>):
/// 36 clause entries (four of them containers) and 38 Annex A controls, with our own summaries and profiles.
/// </summary>
public sealed class IsoCatalog
{
    private const string ResourceName = "Aims.Evidence.Core.Catalog.catalog.json";

    private static readonly Lazy<IsoCatalog> Embedded = new(LoadEmbedded);

    private readonly FrozenDictionary<string, CatalogEntry> _byId;

    public IsoCatalog(IReadOnlyList<CatalogEntry> entries, string version)
    {
        ArgumentNullException.ThrowIfNull(entries);
        Entries = entries;
        Version = version;
        _byId = entries.ToFrozenDictionary(e => e.Id, StringComparer.Ordinal);
    }

    /// <summary>The catalog as shipped.</summary>
    public static IsoCatalog Default => Embedded.Value;

    public static JsonSerializerOptions JsonOptions { get; } = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
        WriteIndented = true,
    };

    /// <summary>Profile version: changes whenever summaries or profiles change; recorded on every mapping.</summary>
    public string Version { get; }

    public IReadOnlyList<CatalogEntry> Entries { get; }

    /// <summary>Entries a passage can be mapped to (containers excluded: their children carry the detail).</summary>
    public IEnumerable<CatalogEntry> Mappable => Entries.Where(e => !e.Container);

    public CatalogEntry this[string id] => _byId[id];

    public bool Contains(string id) => _byId.ContainsKey(id);

    public bool TryGet(string id, out CatalogEntry? entry) => _byId.TryGetValue(id, out entry);

    /// <summary>
    /// The entry a reviewer decides on or maps to (applicability, owner, manual mapping): a clause or Annex A control
    /// by its id (surrounding white space ignored), never a grouping clause. One check for the API and the CLI.
    /// </summary>
    public bool TryGetDecidable(string? id, [NotNullWhen(true)] out CatalogEntry? entry)
    {
        entry = id is not null && _byId.TryGetValue(id.Trim(), out var found) && !found.Container ? found : null;
        return entry is not null;
    }

    /// <summary>True when two ids are the same or one is a container clause and the other its child.</summary>
    public static bool Equivalent(string a, string b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        if (string.Equals(a, b, StringComparison.Ordinal))
        {
            return true;
        }

        return IsContainerChild(a, b) || IsContainerChild(b, a);

        static bool IsContainerChild(string container, string child) =>
            container is "6.1" or "7.5" or "9.2" or "9.3" && child.StartsWith(container + ".", StringComparison.Ordinal);
    }

    private static IsoCatalog LoadEmbedded()
    {
        using var stream = typeof(IsoCatalog).Assembly.GetManifestResourceStream(ResourceName)
            ?? throw new InvalidOperationException($"Embedded resource {ResourceName} is missing.");
        var file = JsonSerializer.Deserialize<CatalogFile>(stream, JsonOptions)
            ?? throw new InvalidOperationException("The embedded catalog is empty.");
        return new IsoCatalog(file.Entries, file.Version);
    }

    private sealed record CatalogFile(string Version, IReadOnlyList<CatalogEntry> Entries);
}
