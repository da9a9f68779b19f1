using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using Aims.Evidence.Core.Classification;
using Aims.Evidence.Core.Extraction;
using Aims.Evidence.Core.Storage;

namespace Aims.Evidence.Core.Inventory;

/// <summary>A stored document with its passages: what the inventory is derived from.</summary>
public sealed record InventorySource(DocumentRecord Document, IReadOnlyList<PassageRecord> Passages);

/// <summary>
/// Derives the AI-system inventory from stored documents and passages, without a language model:
/// <list type="bullet">
/// <item>a table row of an inventory (CSV, XLSX) is one system: its name is the row's identifying value (the one
/// citations use), purpose, provider, stage, risk, unit and data come from the columns whose headers say so;</item>
/// <item>the records of a JSON or YAML register ("title: X" lines repeated per record) are one system each;</item>
/// <item>a document whose title names its subject ("Model card for X", "X model card", "Transparency note for X",
/// "X: Responsible AI FAQ", "Use cases for X") describes that system; a model card whose first heading reads as a
/// model name ("Pythia-12B") describes that model; a model card's "What is X?" heading names its subject.</item>
/// </list>
/// Data cards never yield a system. Rows with the same name and unit are one system; systems found in prose merge
/// across documents by normalised name or alias; inventory rows never merge with prose systems (a unit's use case
/// is not the product of the same name).
/// </summary>
public static partial class AiSystemInventoryBuilder
{
    public static IReadOnlyList<AiSystem> Build(IEnumerable<InventorySource> sources)
    {
        ArgumentNullException.ThrowIfNull(sources);
        var found = new List<Found>();
        foreach (var source in sources)
        {
            if (source.Document.Status != DocumentStatus.Processed)
            {
                continue;
            }

            var passages = source.Passages.OrderBy(p => p.Ordinal).ToArray();
            if (passages.Any(p => p.RowStart is not null))
            {
                found.AddRange(FromRows(source.Document, passages));
            }
            else if (RegisterRecords(source.Document, passages) is { Count: > 0 } records)
            {
                found.AddRange(records);
            }
            else if (source.Document.DocType != DocumentTypes.DataCard)
            {
                // A data card describes data, not a system: its title never names one.
                found.AddRange(FromSubject(source.Document, passages));
            }
        }

        return Merge(found);
    }

    /// <summary>The normalised form of a name: lower case, letters and digits, without "the", "a", "an" and "model" words.</summary>
    public static string NormalizeName(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        var decomposed = name.Normalize(NormalizationForm.FormD);
        var sb = new StringBuilder(decomposed.Length);
        foreach (var c in decomposed)
        {
            if (CharUnicodeInfo.GetUnicodeCategory(c) == UnicodeCategory.NonSpacingMark)
            {
                continue;
            }

            sb.Append(char.IsLetterOrDigit(c) ? char.ToLowerInvariant(c) : ' ');
        }

        var words = sb.ToString().Split(' ', StringSplitOptions.RemoveEmptyEntries).Where(w => w is not ("the" or "a" or "an" or "model"));
        return string.Join(' ', words);
    }

    /// <summary>A stable id for a system: "ais-" and 16 hex digits of the SHA-256 of its key.</summary>
    public static string IdOf(string name, string? unit = null)
    {
        var key = NormalizeName(name) + (string.IsNullOrWhiteSpace(unit) ? string.Empty : "|" + NormalizeName(unit));
        return "ais-" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)))[..16];
    }

    /// <summary>
    /// The name without a trailing "(ACRONYM)" or "(aka X)" and that bracket's content as an alias; a former name
    /// ("(formerly X)", "(previously named X)", "(renamed from X)": inventories record renames) is an alias too.
    /// </summary>
    public static (string Name, IReadOnlyList<string> Aliases) SplitAliases(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        var m = TrailingBracket().Match(name.Trim());
        if (!m.Success)
        {
            return (name.Trim(), []);
        }

        var inner = m.Groups["inner"].Value.Trim();
        var aka = AkaPrefix().Match(inner);
        if (aka.Success)
        {
            return (m.Groups["head"].Value.Trim(), [inner[aka.Length..].Trim()]);
        }

        // An acronym of the words before it ("Advanced Analytics for X-ray Images (AAXI)"): both are names of the system.
        return inner.Length is >= 2 and <= 12 && inner.All(c => char.IsUpper(c) || char.IsDigit(c) || c is '-' or '&')
            ? (name.Trim(), [m.Groups["head"].Value.Trim(), inner])
            : (name.Trim(), []);
    }

    private sealed record Found(string Name, string? Unit, string Kind, string? Role, AiSystemCitation Citation)
    {
        public IReadOnlyList<string> Aliases { get; init; } = [];

        public string? Purpose { get; init; }

        public string? Provider { get; init; }

        public string? Lifecycle { get; init; }

        public string? RiskLevel { get; init; }

        public string? Data { get; init; }

        public bool IsRow => Kind == "use-case";
    }

    /// <summary>The citation of a passage: document, page (or sheet) and rows, the citation text.</summary>
    public static AiSystemCitation Cite(DocumentRecord doc, PassageRecord p) =>
        new(doc.Id, doc.Name, p.Page, p.RowStart, p.Id, CitationText.Of(doc, p));

    // ---- Inventory rows (CSV, XLSX) ----

    private static IEnumerable<Found> FromRows(DocumentRecord doc, PassageRecord[] passages)
    {
        var rows = passages.Where(p => p.RowStart is not null && p.Headings.Count > 0)
            .GroupBy(p => (p.Page, p.RowStart))
            .Select(g => g.ToArray())
            .ToArray();
        var headers = RowHeaders(rows.Select(r => r[0].Text));
        if (!IsInventoryTable(doc, headers))
        {
            yield break;
        }

        foreach (var row in rows)
        {
            var text = string.Join(" ", row.Select(p => p.Text));
            var fields = RowFields(text, headers);
            var key = row[0].Headings[^1];
            var name = key.EndsWith("...", StringComparison.Ordinal)
                ? fields.Values.FirstOrDefault(v => v.StartsWith(key[..^3], StringComparison.Ordinal)) ?? key
                : key;
            if (!LooksLikeName(name))
            {
                continue;
            }

            var (main, aliases) = SplitAliases(name);
            yield return new Found(main, UnitOf(fields), "use-case", "deployer", Cite(doc, row[0]))
            {
                Aliases = aliases,
                Purpose = Pick(fields, PurposeWords, 400),
                Provider = ProviderOf(fields),
                Lifecycle = Pick(fields, StageWords, 80),
                RiskLevel = RiskOf(fields),
                Data = Pick(fields, DataWords, 300),
            };
        }
    }

    /// <summary>
    /// A table of AI systems: a document classified as an inventory, or a table with at least two of the columns an
    /// inventory has (unit, stage or status, vendor, purpose, risk). A table of indicators or requirements is not one.
    /// </summary>
    private static bool IsInventoryTable(DocumentRecord doc, HashSet<string> headers)
    {
        if (doc.DocType == DocumentTypes.Inventory)
        {
            return true;
        }

        var words = headers.Select(CsvExtractor.HeaderWords).ToArray();
        bool Has(Func<string[], bool> test) => words.Any(test);
        var kinds = new[]
        {
            Has(w => w.Any(UnitWords.Contains) || w is ["agency"]),
            Has(w => w.Any(x => x is "stage" or "status" or "lifecycle" or "phase")),
            Has(w => ProviderWords.Any(c => w.Contains(c[0]))),
            Has(w => w.Any(x => x is "purpose" or "problem" or "doel" or "objective")),
            Has(w => (w.Contains("high") && w.Contains("impact")) || w.Contains("risk")),
        };
        return kinds.Count(k => k) >= 2;
    }

    /// <summary>The headers of a table's rows: the "Header: " prefixes that start a field in a third of the rows, in two, or that are short.</summary>
    private static HashSet<string> RowHeaders(IEnumerable<string> rowTexts)
    {
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        var n = 0;
        foreach (var text in rowTexts)
        {
            n++;
            foreach (var part in text.Split("; ").Select(p => p.IndexOf(": ", StringComparison.Ordinal) is > 0 and var i and < 80 ? p[..i] : null).Where(k => k is not null).Distinct())
            {
                counts[part!] = counts.GetValueOrDefault(part!) + 1;
            }
        }

        // A header is short; one that starts fields in few rows (its cells are mostly empty) still counts.
        return counts.Where(kv => kv.Value * 3 >= n || kv.Value >= 2 || (kv.Key.Length <= 40 && kv.Key.Split(' ').Length <= 5))
            .Select(kv => kv.Key).ToHashSet(StringComparer.Ordinal);
    }

    /// <summary>"Header: value; Header: value" back into fields (a "; " inside a value stays in it).</summary>
    private static Dictionary<string, string> RowFields(string text, HashSet<string> headers)
    {
        var fields = new Dictionary<string, string>(StringComparer.Ordinal);
        string? current = null;
        foreach (var part in text.Split("; "))
        {
            var i = part.IndexOf(": ", StringComparison.Ordinal);
            if (i > 0 && headers.Contains(part[..i]))
            {
                current = part[..i];
                fields[current] = part[(i + 2)..].Trim();
            }
            else if (current is not null)
            {
                fields[current] += "; " + part;
            }
        }

        return fields;
    }

    private static readonly string[][] PurposeWords = [["purpose"], ["intended", "use"], ["problem"], ["doel"], ["objective"], ["description"], ["summary"], ["benefits"]];
    private static readonly string[][] StageWords = [["development", "stage"], ["lifecycle"], ["stage"], ["status"], ["phase"]];
    private static readonly string[][] DataWords = [["data", "description"], ["training", "data"], ["data", "sources"], ["data"]];
    private static readonly string[][] ProviderWords = [["vendor"], ["provider"], ["supplier"], ["leverancier"], ["developer"], ["contractor"]];
    private static readonly string[] UnitWords = ["bureau", "component", "division", "office", "directorate", "unit", "department", "organisatie", "organisation", "organization", "ministry"];

    /// <summary>The value of the first header (in the order of <paramref name="cues"/>) holding all the cue words.</summary>
    private static string? Pick(Dictionary<string, string> fields, string[][] cues, int max)
    {
        foreach (var cue in cues)
        {
            foreach (var (header, value) in fields)
            {
                var words = CsvExtractor.HeaderWords(header);
                if (cue.All(c => words.Contains(c)) && words.Length <= cue.Length + 2 && Useful(value))
                {
                    return value.Length <= max ? value : value[..(max - 3)].TrimEnd() + "...";
                }
            }
        }

        return null;
    }

    private static bool Useful(string value) =>
        value.Length > 0 && value is not ("[]" or "-" or "n/a" or "N/A" or "None" or "none" or "null" or "Unknown" or "Onbekend");

    private static string? UnitOf(Dictionary<string, string> fields)
    {
        string? agency = null;
        string? unit = null;
        foreach (var (header, value) in fields)
        {
            var words = CsvExtractor.HeaderWords(header);
            if (words is ["agency"] && Useful(value))
            {
                agency = value;
            }
            else if (unit is null && words.Any(w => UnitWords.Contains(w)) && !words.Contains("name") && Useful(value) && value.Length <= 120)
            {
                unit = value;
            }
        }

        return agency is null ? unit : unit is null ? agency : agency + " " + unit;
    }

    private static string? ProviderOf(Dictionary<string, string> fields)
    {
        var value = Pick(fields, ProviderWords, 200);
        return value is null || value.Length > 60 || value.Contains("sensitive", StringComparison.OrdinalIgnoreCase) ? null : value;
    }

    private static string? RiskOf(Dictionary<string, string> fields)
    {
        foreach (var (header, value) in fields)
        {
            var words = CsvExtractor.HeaderWords(header);
            if (((words.Contains("high") && words.Contains("impact")) || words.Contains("risk")) && words.Length <= 4 && Useful(value) && value.Length <= 60)
            {
                return value;
            }
        }

        return null;
    }

    // ---- Registers (JSON, YAML): "key: value" lines repeated per record ----

    private static readonly string[] RegisterNameKeys = ["use_case_name", "usecase", "use case name", "system_name", "system name", "name", "title", "naam", "titel"];

    private static List<Found> RegisterRecords(DocumentRecord doc, PassageRecord[] passages)
    {
        var result = new List<Found>();
        var lines = new List<(string Key, string Value, PassageRecord Passage)>();
        foreach (var p in passages)
        {
            foreach (var line in p.Text.Split('\n'))
            {
                var m = KeyLine().Match(line);
                if (m.Success)
                {
                    lines.Add((m.Groups["k"].Value.ToLowerInvariant(), m.Groups["v"].Value.Trim(), p));
                }
            }
        }

        var nameKey = RegisterNameKeys.FirstOrDefault(k => lines.Count(l => l.Key == k) >= 3);
        if (nameKey is null)
        {
            return result;
        }

        // A record ends where a key repeats: the fields before and after its name line that belong to it.
        var record = new Dictionary<string, string>(StringComparer.Ordinal);
        PassageRecord? at = null;
        string? name = null;
        foreach (var (key, value, passage) in lines.Append((string.Empty, string.Empty, passages[^1])))
        {
            if (key.Length == 0 || record.ContainsKey(key))
            {
                // A register's record says who runs the system or where it stands, not only its name.
                if (name is not null && at is not null && LooksLikeName(name) && record.Keys.Any(IsRegisterKey))
                {
                    var (main, aliases) = SplitAliases(name);
                    result.Add(new Found(main, UnitOf(record), "use-case", "deployer", Cite(doc, at))
                    {
                        Aliases = aliases,
                        Provider = ProviderOf(record),
                        Lifecycle = Pick(record, StageWords, 80),
                        RiskLevel = RiskOf(record),
                    });
                }

                record.Clear();
                (name, at) = (null, null);
            }

            record[key] = value;
            if (key == nameKey)
            {
                (name, at) = (value, passage);
            }
        }

        return result;
    }

    private static bool IsRegisterKey(string key)
    {
        var words = CsvExtractor.HeaderWords(key);
        return words.Any(w => UnitWords.Contains(w) || w is "agency" or "status" or "stage" or "lifecycle" or "phase");
    }

    // ---- Documents about one system (model and system cards, transparency notes) ----

    private static IEnumerable<Found> FromSubject(DocumentRecord doc, PassageRecord[] passages)
    {
        if (passages.Length == 0)
        {
            yield break;
        }

        var headings = passages.SelectMany(p => p.Headings).Distinct(StringComparer.Ordinal).Take(40).ToArray();
        var isCard = doc.DocType == DocumentTypes.ModelCard || headings.Any(h => CardSection().IsMatch(h));
        var role = isCard ? "developer" : "user";
        var kind = isCard ? "model" : "product";

        // The title (the first heading) naming its subject.
        var first = passages.FirstOrDefault(p => p.Headings.Count > 0) ?? passages[0];
        string? subject = null;
        foreach (var heading in headings.Take(3))
        {
            if (SubjectOfTitle(heading) is { } named)
            {
                subject = named;
                break;
            }
        }

        if (subject is null && isCard && first.Headings.Count > 0 && LooksLikeModelName(CleanTitle(first.Headings[0])))
        {
            subject = CleanTitle(first.Headings[0]);
        }

        if (subject is null && isCard)
        {
            subject = headings.Select(h => WhatIs().Match(h)).FirstOrDefault(m => m.Success)?.Groups["x"].Value.Trim();
        }

        if (subject is null && isCard && first.Headings.Count > 0 && CleanTitle(first.Headings[0]) is { Length: >= 3 } title
            && title.Split(' ').Length <= 4 && char.IsUpper(title[0]) && !GenericTitle().IsMatch(title)
            && headings.Count(h => h != first.Headings[0] && h.Contains(title, StringComparison.OrdinalIgnoreCase)) >= 2)
        {
            // A short title that the card's own section headings repeat ("Promptions": "What can Promptions do").
            subject = title;
        }

        if (subject is null && isCard)
        {
            // "Phi-3.5-mini is a lightweight ... model": the card's first sentence naming its subject.
            subject = passages.Take(3).Select(p => IsAModel().Match(p.Text)).FirstOrDefault(m => m.Success)?.Groups["x"].Value.Trim();
        }

        if (subject is null || !LooksLikeName(subject))
        {
            yield break;
        }

        var (main, aliases) = SplitAliases(subject);
        var cited = passages.FirstOrDefault(p => p.Text.Contains(main, StringComparison.OrdinalIgnoreCase)) ?? first;
        yield return new Found(main, null, kind, role, Cite(doc, cited)) { Aliases = aliases, Purpose = PurposeSentence(passages, main) };
    }

    /// <summary>The subject a title names: "Model card for X", "X model card", "Transparency note(s) for X", "X transparency note(s)", "X: Responsible AI FAQ(s)", "Use cases for X".</summary>
    public static string? SubjectOfTitle(string title)
    {
        ArgumentNullException.ThrowIfNull(title);
        var t = CleanTitle(title);
        foreach (var regex in new[] { CardFor(), CardSuffix(), NoteFor(), NoteSuffix(), FaqSuffix(), UseCasesFor() })
        {
            var m = regex.Match(t);
            if (m.Success && m.Groups["x"].Value.Trim() is { Length: > 1 } x && !x.StartsWith("a ", StringComparison.OrdinalIgnoreCase))
            {
                return x.Trim(' ', '-', ':', '\u2013', '\u2014');
            }
        }

        return null;
    }

    /// <summary>A title without emoji and decoration.</summary>
    private static string CleanTitle(string title) =>
        TextNormalizer.CollapseWhitespace(new string(title.Where(c => char.IsLetterOrDigit(c) || char.IsWhiteSpace(c) || char.IsPunctuation(c) || c is '+' or '&').ToArray())).Trim(' ', '*', '#', '-');

    /// <summary>
    /// A first heading that reads as a model's name: at most eight words, one with a digit or an inner capital
    /// ("Pythia-12B", "OLMo-2-1124-13B-Instruct", "NVIDIA Conformer-CTC Large"), and not a sentence.
    /// </summary>
    private static bool LooksLikeModelName(string text)
    {
        var words = text.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return words.Length is > 0 and <= 8
            && words.Any(w => w.Any(char.IsDigit) || w.Skip(1).Any(char.IsUpper))
            && !words.Any(w => w is "for" or "of" or "and" or "&" or "to" or "with" or "how" or "what" or "the")
            && !words.Any(w => DocumentWords.Contains(w.ToLowerInvariant()));
    }

    /// <summary>Words of a document's own title (a checklist, a policy), not of a model's name.</summary>
    private static readonly HashSet<string> DocumentWords = new(StringComparer.Ordinal)
    {
        "checklist", "policy", "guide", "guidance", "framework", "assessment", "report", "procedure", "standard", "template", "questionnaire", "worksheet", "plan",
    };

    /// <summary>Not a name: empty, too long, a sentence, or a code/number alone.</summary>
    private static bool LooksLikeName(string name)
    {
        var t = name.Trim();
        return t.Length is >= 2 and <= 300 && t.Any(char.IsLetter) && t.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length <= 40;
    }

    private static string? PurposeSentence(PassageRecord[] passages, string name)
    {
        foreach (var p in passages.Take(12))
        {
            foreach (var sentence in Sentences().Split(p.Text))
            {
                if (sentence.Length is > 30 and < 400 && sentence.StartsWith(name, StringComparison.OrdinalIgnoreCase)
                    && IsSentence().IsMatch(sentence[name.Length..]))
                {
                    return sentence.Trim();
                }
            }
        }

        return null;
    }

    // ---- Merging ----

    private static List<AiSystem> Merge(List<Found> found)
    {
        var groups = new List<List<Found>>();
        var rowIndex = new Dictionary<string, List<Found>>(StringComparer.Ordinal);
        var proseIndex = new Dictionary<string, List<Found>>(StringComparer.Ordinal);
        foreach (var f in found)
        {
            if (f.IsRow)
            {
                // Rows: the same name in the same unit is one system.
                var key = NormalizeName(f.Name) + "|" + NormalizeName(f.Unit ?? string.Empty);
                if (!rowIndex.TryGetValue(key, out var group))
                {
                    rowIndex[key] = group = [];
                    groups.Add(group);
                }

                group.Add(f);
                continue;
            }

            var keys = f.Aliases.Prepend(f.Name).Select(NormalizeName).Where(k => k.Length > 0).ToArray();
            var existing = keys.Select(k => proseIndex.GetValueOrDefault(k)).FirstOrDefault(g => g is not null);
            if (existing is null)
            {
                existing = [];
                groups.Add(existing);
            }

            existing.Add(f);
            foreach (var k in keys)
            {
                proseIndex.TryAdd(k, existing);
            }
        }

        return groups.Select(ToSystem).OrderBy(s => s.Name, StringComparer.OrdinalIgnoreCase).ThenBy(s => s.Unit, StringComparer.Ordinal).ToList();
    }

    private static AiSystem ToSystem(List<Found> group)
    {
        var head = group[0];
        var aliases = group.SelectMany(f => f.Aliases.Prepend(f.Name))
            .Where(a => !string.Equals(NormalizeName(a), NormalizeName(head.Name), StringComparison.Ordinal))
            .DistinctBy(NormalizeName)
            .ToArray();
        return new AiSystem
        {
            Id = IdOf(head.Name, head.IsRow ? head.Unit : null),
            Name = head.Name,
            Aliases = aliases,
            Purpose = group.Select(f => f.Purpose).FirstOrDefault(v => v is not null),
            Provider = group.Select(f => f.Provider).FirstOrDefault(v => v is not null),
            Role = head.Role,
            Lifecycle = group.Select(f => f.Lifecycle).FirstOrDefault(v => v is not null),
            RiskLevel = group.Select(f => f.RiskLevel).FirstOrDefault(v => v is not null),
            Unit = head.Unit,
            Data = group.Select(f => f.Data).FirstOrDefault(v => v is not null),
            Kind = head.Kind,
            Citations = group.Select(f => f.Citation).DistinctBy(c => c.PassageId).ToArray(),
        };
    }

    [GeneratedRegex(@"^(?<head>.+?)\s*\((?<inner>[^()]+)\)$")]
    private static partial Regex TrailingBracket();

    [GeneratedRegex(@"^(aka|a\.k\.a\.|also known as|formerly(\s+(known\s+as|named|called))?|previously(\s+(known\s+as|named|called))?|renamed\s+from)\s+", RegexOptions.IgnoreCase)]
    private static partial Regex AkaPrefix();

    [GeneratedRegex(@"^(?<k>[A-Za-z_][A-Za-z0-9_ ]{0,39}):\s(?<v>.{1,200})$")]
    private static partial Regex KeyLine();

    [GeneratedRegex(@"^(?:the\s+)?(?:model|system)\s+card\s*(?:for|of|:|-|\u2013)\s*(?<x>.+)$", RegexOptions.IgnoreCase)]
    private static partial Regex CardFor();

    [GeneratedRegex(@"^(?<x>.+?)\s+(?:model|system)\s+card$", RegexOptions.IgnoreCase)]
    private static partial Regex CardSuffix();

    [GeneratedRegex(@"^transparency\s+notes?\s*(?:for|of|on|:|-|\u2013)\s*(?<x>.+)$", RegexOptions.IgnoreCase)]
    private static partial Regex NoteFor();

    [GeneratedRegex(@"^(?<x>.+?)\s*[:\-\u2013]?\s+transparency\s+(?:notes?|faqs?)$", RegexOptions.IgnoreCase)]
    private static partial Regex NoteSuffix();

    [GeneratedRegex(@"^(?<x>.+?)\s*[:\-\u2013]\s*responsible\s+ai\s+(?:faqs?|note)$", RegexOptions.IgnoreCase)]
    private static partial Regex FaqSuffix();

    [GeneratedRegex(@"^use\s+cases\s+for\s+(?<x>.+)$", RegexOptions.IgnoreCase)]
    private static partial Regex UseCasesFor();

    [GeneratedRegex(@"^what\s+is\s+(?!an?\s|the\s)(?<x>[A-Z][\w\-\.]*(?:\s+[A-Z0-9][\w\-\.]*){0,4})\s*\?$")]
    private static partial Regex WhatIs();

    [GeneratedRegex(@"^\s*(?<x>[A-Z][\w\.\-]*[\d\-][\w\.\-]*(?:\s+[A-Z][\w\.\-]*){0,2})\s+is\s+an?\s+[^.]{0,120}\bmodel\b")]
    private static partial Regex IsAModel();

    [GeneratedRegex(@"^(model\s+(details|summary|description|overview|card|architecture)|intended\s+uses?\b|uses\s+and\s+limitations)", RegexOptions.IgnoreCase)]
    private static partial Regex CardSection();

    [GeneratedRegex(@"^(overview|introduction|summary|contents|table of contents|abstract|purpose|scope|background|policy|about|readme)$", RegexOptions.IgnoreCase)]
    private static partial Regex GenericTitle();

    [GeneratedRegex(@"(?<=[.!?])\s+")]
    private static partial Regex Sentences();

    [GeneratedRegex(@"^\s*(?:\([^)]*\)\s*)?(?:is|are|was|provides|helps|enables|can)\b")]
    private static partial Regex IsSentence();
}
