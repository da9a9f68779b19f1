using System.ComponentModel;
using Aims.Evidence.Core.Catalog;
using Microsoft.SemanticKernel;

namespace Aims.Evidence.Core.Mapping;

/// <summary>A catalog entry as kernel functions return it.</summary>
public sealed record ControlInfo(string Id, string Title, string Summary);

/// <summary>Semantic Kernel plugin exposing the ISO/IEC 42001 catalog.</summary>
public sealed class CatalogPlugin
{
    private readonly IsoCatalog _catalog;

    public CatalogPlugin(IsoCatalog catalog)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        _catalog = catalog;
    }

    [KernelFunction("get_control")]
    [Description("Returns the title and summary of an ISO/IEC 42001 clause or Annex A control, or null when the id is unknown.")]
    public ControlInfo? GetControl([Description("Clause or control id, e.g. 6.1.2 or A.9.4")] string id) =>
        _catalog.TryGet(id?.Trim() ?? string.Empty, out var entry) && entry is not null
            ? new ControlInfo(entry.Id, entry.Title, entry.Summary)
            : null;

    [KernelFunction("list_controls")]
    [Description("Lists the mappable ISO/IEC 42001 clauses and Annex A controls (id and title).")]
    public IReadOnlyList<ControlInfo> ListControls() =>
        [.. _catalog.Mappable.Select(e => new ControlInfo(e.Id, e.Title, e.Summary))];
}
