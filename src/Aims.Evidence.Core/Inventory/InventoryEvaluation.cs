using System.Text.Json;
using System.Text.Json.Serialization;

namespace Aims.Evidence.Core.Inventory;

/// <summary>One labelled system of a gold inventory (tests/eval/ai-systems.json): a name, its aliases and unit.</summary>
public sealed record GoldSystem(string Name, IReadOnlyList<string>? Aliases, string? Unit);

/// <summary>The figures of an inventory against a gold list, with the misses and the false positives by name.</summary>
public sealed record InventoryScore(int Gold, int Predicted, int Matched, double Precision, double Recall, IReadOnlyList<string> Misses, IReadOnlyList<string> FalsePositives);

/// <summary>
/// Scores an inventory against a gold list. A predicted system matches a gold system when their normalised names or
/// any of their aliases are equal (<see cref="AiSystemInventoryBuilder.NormalizeName"/>), one to one: first the pairs
/// whose names are equal (with the same unit first), then alias pairs, in gold order. A prediction matching no gold
/// system is a false positive; a gold system matched by none is a miss.
/// </summary>
public static class InventoryEvaluation
{
    private sealed record GoldFile([property: JsonPropertyName("systems")] IReadOnlyList<GoldSystem> Systems);

    private static readonly JsonSerializerOptions ReadOptions = new() { PropertyNameCaseInsensitive = true };

    public static IReadOnlyList<GoldSystem> ReadGold(string json)
    {
        var file = JsonSerializer.Deserialize<GoldFile>(json, ReadOptions)
            ?? throw new InvalidDataException("the gold file holds no {\"systems\":[...]}");
        return file.Systems;
    }

    public static InventoryScore Score(IReadOnlyList<AiSystem> predicted, IReadOnlyList<GoldSystem> gold)
    {
        ArgumentNullException.ThrowIfNull(predicted);
        ArgumentNullException.ThrowIfNull(gold);
        var norm = AiSystemInventoryBuilder.NormalizeName;
        var goldTaken = new bool[gold.Count];
        var predTaken = new bool[predicted.Count];

        void Pass(Func<GoldSystem, AiSystem, bool> matches)
        {
            for (var g = 0; g < gold.Count; g++)
            {
                for (var p = 0; !goldTaken[g] && p < predicted.Count; p++)
                {
                    if (!predTaken[p] && matches(gold[g], predicted[p]))
                    {
                        (goldTaken[g], predTaken[p]) = (true, true);
                    }
                }
            }
        }

        Pass((g, p) => norm(g.Name) == norm(p.Name) && norm(g.Unit ?? string.Empty) == norm(p.Unit ?? string.Empty));
        Pass((g, p) => norm(g.Name) == norm(p.Name));
        Pass((g, p) => (g.Aliases ?? []).Prepend(g.Name).Select(norm).Intersect(p.Aliases.Prepend(p.Name).Select(norm)).Any(k => k.Length > 0));

        var matched = goldTaken.Count(t => t);
        return new InventoryScore(
            gold.Count,
            predicted.Count,
            matched,
            predicted.Count == 0 ? 0 : (double)matched / predicted.Count,
            gold.Count == 0 ? 0 : (double)matched / gold.Count,
            gold.Where((_, i) => !goldTaken[i]).Select(g => g.Unit is null ? g.Name : $"{g.Name} ({g.Unit})").ToArray(),
            predicted.Where((_, i) => !predTaken[i]).Select(p => p.Unit is null ? p.Name : $"{p.Name} ({p.Unit})").ToArray());
    }
}
