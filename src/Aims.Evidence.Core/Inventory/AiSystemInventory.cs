using Aims.Evidence.Core.Storage;

namespace Aims.Evidence.Core.Inventory;

/// <summary>
/// The AI-system inventory of a store: the systems derived from its current documents (cached per store version when
/// the store has one), with the reviewer edits applied on top at every read, so edits keep across re-ingestion.
/// </summary>
public sealed class AiSystemInventory(IEvidenceStore store, IAiSystemEditStore? edits = null)
{
    private readonly Lock _lock = new();
    private (long Version, IReadOnlyList<AiSystem> Systems, IReadOnlyDictionary<string, IReadOnlyDictionary<string, AiSystemCitation>> Citable)? _cache;

    public IAiSystemEditStore? Edits => edits ?? store as IAiSystemEditStore;

    /// <summary>
    /// The inventory: derived systems, with the LLM's suggestions for the current document versions merged in, and
    /// every reviewer edit applied, ordered by name.
    /// </summary>
    public async Task<IReadOnlyList<AiSystem>> ListAsync(CancellationToken cancellationToken = default)
    {
        var (derived, citable) = await DerivedWithCitationsAsync(cancellationToken).ConfigureAwait(false);
        var list = Edits is { } e ? await e.ListAiSystemEditsAsync(cancellationToken).ConfigureAwait(false) : [];
        var suggested = ApplySuggestions(derived, list.Where(x => x.Action == AiSystemEditActions.Suggest).ToArray(), citable);
        return Apply(suggested, list.Where(x => x.Action != AiSystemEditActions.Suggest).ToArray());
    }

    /// <summary>The systems the documents describe, before edits.</summary>
    public async Task<IReadOnlyList<AiSystem>> DerivedAsync(CancellationToken cancellationToken = default) =>
        (await DerivedWithCitationsAsync(cancellationToken).ConfigureAwait(false)).Systems;

    /// <summary>
    /// Per current processed document (by id), the citation of each of its passages (by id): what a suggestion needs to
    /// cite the passages it names. Kept instead of the passages themselves, so the cache holds no passage text or vectors.
    /// </summary>
    public static IReadOnlyDictionary<string, IReadOnlyDictionary<string, AiSystemCitation>> Citable(IEnumerable<InventorySource> sources)
    {
        ArgumentNullException.ThrowIfNull(sources);
        return sources.ToDictionary(
            x => x.Document.Id,
            x => (IReadOnlyDictionary<string, AiSystemCitation>)x.Passages.ToDictionary(p => p.Id, p => AiSystemInventoryBuilder.Cite(x.Document, p), StringComparer.Ordinal),
            StringComparer.Ordinal);
    }

    private async Task<(IReadOnlyList<AiSystem> Systems, IReadOnlyDictionary<string, IReadOnlyDictionary<string, AiSystemCitation>> Citable)> DerivedWithCitationsAsync(CancellationToken cancellationToken)
    {
        long? version = store is IStoreVersion v ? await v.GetVersionAsync(cancellationToken).ConfigureAwait(false) : null;
        lock (_lock)
        {
            if (version is not null && _cache is { } c && c.Version == version)
            {
                return (c.Systems, c.Citable);
            }
        }

        var sources = new List<InventorySource>();
        foreach (var doc in await store.ListDocumentsAsync(false, cancellationToken).ConfigureAwait(false))
        {
            if (doc.Status != DocumentStatus.Processed)
            {
                continue;
            }

            var passages = await store.GetPassagesAsync(doc.Id, cancellationToken).ConfigureAwait(false);
            sources.Add(new InventorySource(doc, passages.Select(p => p.Passage).ToArray()));
        }

        var systems = AiSystemInventoryBuilder.Build(sources);
        var citable = Citable(sources);
        if (version is { } ver)
        {
            lock (_lock)
            {
                _cache = (ver, systems, citable);
            }
        }

        return (systems, citable);
    }

    /// <summary>
    /// Merges the LLM's suggestions (<see cref="AiSystemEditActions.Suggest"/>) into the derived systems. A suggestion
    /// counts only while its document version is a current processed one (a newer version's suggestions replace it)
    /// and only with its cited passages of that version. A suggestion whose name or alias matches a prose system (not
    /// an inventory row) adds its citations and aliases and fills that system's empty purpose, provider, role,
    /// lifecycle and risk level; any other becomes an unconfirmed system with source "llm".
    /// </summary>
    public static IReadOnlyList<AiSystem> ApplySuggestions(IReadOnlyList<AiSystem> derived, IReadOnlyList<AiSystemEdit> suggestions, IReadOnlyDictionary<string, IReadOnlyDictionary<string, AiSystemCitation>> citable)
    {
        ArgumentNullException.ThrowIfNull(derived);
        ArgumentNullException.ThrowIfNull(suggestions);
        ArgumentNullException.ThrowIfNull(citable);
        var systems = derived.ToList();
        foreach (var s in suggestions)
        {
            if (s.Name is not { } name || s.DocumentId is not { } documentId || !citable.TryGetValue(documentId, out var cites))
            {
                continue;
            }

            var citations = s.Passages.Where(cites.ContainsKey).Distinct(StringComparer.Ordinal).Select(id => cites[id]).ToArray();
            if (citations.Length == 0)
            {
                continue;
            }

            var names = s.Aliases.Prepend(name).Select(AiSystemInventoryBuilder.NormalizeName).Where(n => n.Length > 0).ToHashSet(StringComparer.Ordinal);
            var i = systems.FindIndex(x => x.Unit is null && (names.Contains(AiSystemInventoryBuilder.NormalizeName(x.Name)) || x.Aliases.Any(a => names.Contains(AiSystemInventoryBuilder.NormalizeName(a)))));
            if (i < 0)
            {
                systems.Add(new AiSystem
                {
                    Id = s.SystemId, Name = name, Aliases = s.Aliases, Purpose = s.Purpose, Provider = s.Provider, Role = s.Role,
                    Lifecycle = s.Lifecycle, RiskLevel = s.RiskLevel, Kind = "product", Source = "llm", Confirmed = false, Citations = citations,
                });
                continue;
            }

            var t = systems[i];
            systems[i] = t with
            {
                Aliases = s.Aliases.Prepend(name).Aggregate(t.Aliases, (a, n) => WithAlias(a, n, t.Name)),
                Purpose = t.Purpose ?? s.Purpose,
                Provider = t.Provider ?? s.Provider,
                Role = t.Role ?? s.Role,
                Lifecycle = t.Lifecycle ?? s.Lifecycle,
                RiskLevel = t.RiskLevel ?? s.RiskLevel,
                Citations = [.. t.Citations, .. citations.Where(c => t.Citations.All(x => x.PassageId != c.PassageId))],
            };
        }

        return systems;
    }

    /// <summary>
    /// Applies the edits in order: confirm marks a system confirmed; reject removes it; rename changes its name (its id
    /// and the old name, kept as an alias, stay); merge moves its citations and names into the target; split moves the
    /// citations of the named documents to a new system; add creates a system by hand. An edit whose system is absent
    /// (its document was removed) is skipped.
    /// </summary>
    public static IReadOnlyList<AiSystem> Apply(IReadOnlyList<AiSystem> derived, IReadOnlyList<AiSystemEdit> edits)
    {
        ArgumentNullException.ThrowIfNull(derived);
        ArgumentNullException.ThrowIfNull(edits);
        var systems = derived.ToDictionary(s => s.Id, StringComparer.Ordinal);
        foreach (var edit in edits)
        {
            var present = systems.TryGetValue(edit.SystemId, out var s);
            switch (edit.Action)
            {
                case AiSystemEditActions.Add when !present && edit.Name is { } name:
                    systems[edit.SystemId] = new AiSystem
                    {
                        Id = edit.SystemId, Name = name, Purpose = edit.Purpose, Provider = edit.Provider, Role = edit.Role,
                        Source = "manual", Confirmed = true, Kind = "product",
                    };
                    break;
                case AiSystemEditActions.Confirm when present:
                    systems[edit.SystemId] = s! with { Confirmed = true };
                    break;
                case AiSystemEditActions.Reject when present:
                    systems.Remove(edit.SystemId);
                    break;
                case AiSystemEditActions.Rename when present && edit.Name is { } newName:
                    systems[edit.SystemId] = s! with { Name = newName, Aliases = WithAlias(s!.Aliases, s.Name, newName), Confirmed = true };
                    break;
                case AiSystemEditActions.Merge when present && edit.TargetId is { } target && target != edit.SystemId && systems.TryGetValue(target, out var t):
                    systems[target] = t with
                    {
                        Aliases = s!.Aliases.Prepend(s.Name).Aggregate(t.Aliases, (a, n) => WithAlias(a, n, t.Name)),
                        Citations = [.. t.Citations, .. s.Citations.Where(c => t.Citations.All(x => x.PassageId != c.PassageId))],
                        Purpose = t.Purpose ?? s.Purpose,
                        Provider = t.Provider ?? s.Provider,
                        Confirmed = true,
                    };
                    systems.Remove(edit.SystemId);
                    break;
                case AiSystemEditActions.Split when present && edit.Name is { } splitName && edit.Documents.Count > 0:
                    var moved = s!.Citations.Where(c => edit.Documents.Contains(c.DocumentName, StringComparer.Ordinal)).ToArray();
                    if (moved.Length == 0 || moved.Length == s.Citations.Count)
                    {
                        break;
                    }

                    var newId = AiSystemInventoryBuilder.IdOf(splitName, s.Unit);
                    systems[edit.SystemId] = s with { Citations = s.Citations.Except(moved).ToArray() };
                    systems[newId] = s with { Id = newId, Name = splitName, Aliases = [], Citations = moved, Confirmed = true, Source = "manual" };
                    break;
            }
        }

        return systems.Values.OrderBy(x => x.Name, StringComparer.OrdinalIgnoreCase).ThenBy(x => x.Unit, StringComparer.Ordinal).ThenBy(x => x.Id, StringComparer.Ordinal).ToArray();
    }

    private static string[] WithAlias(IReadOnlyList<string> aliases, string alias, string name) =>
        AiSystemInventoryBuilder.NormalizeName(alias) == AiSystemInventoryBuilder.NormalizeName(name) || aliases.Any(a => AiSystemInventoryBuilder.NormalizeName(a) == AiSystemInventoryBuilder.NormalizeName(alias))
            ? aliases.Where(a => AiSystemInventoryBuilder.NormalizeName(a) != AiSystemInventoryBuilder.NormalizeName(name)).ToArray()
            : [.. aliases.Where(a => AiSystemInventoryBuilder.NormalizeName(a) != AiSystemInventoryBuilder.NormalizeName(name)), alias];
}
