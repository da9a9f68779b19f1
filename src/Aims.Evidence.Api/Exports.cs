using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Aims.Evidence.Core.Catalog;
using Aims.Evidence.Core.Gaps;
using Aims.Evidence.Core.Mapping;
using Aims.Evidence.Core.Services;
using Aims.Evidence.Core.Storage;
using Microsoft.AspNetCore.Http;

namespace Aims.Evidence.Api;

public sealed record SoaRow(string ControlId, string Title, string Objective, string Applicable, string Justification, string Status, string Reason, IReadOnlyList<string> Evidence);

public static partial class AimsEvidenceApi
{
    internal static JsonSerializerOptions ExportJson => ApiJson.Indented;

    /// <summary>Draft Statement of Applicability: every Annex A control with applicability, justification, evidence citations and status.</summary>
    public static async Task<IReadOnlyList<SoaRow>> BuildSoaAsync(EvidenceService evidence, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(evidence);
        // The cached snapshot: the SoA no longer loads every evidence link per request (the soak's slowest endpoint).
        return BuildSoa(await evidence.GetGapSnapshotAsync(ct).ConfigureAwait(false));
    }

    /// <summary>The SoA rows of one gap snapshot (the evidence pack renders the same rows as the snapshot it cites).</summary>
    internal static IReadOnlyList<SoaRow> BuildSoa(GapSnapshot snapshot)
    {
        var (report, links) = snapshot;
        var byControl = links.ToLookup(l => l.Mapping.ControlId, StringComparer.Ordinal);
        return report.Entries.Where(g => g.Entry.Kind == EntryKind.Control && !g.Entry.Container)
            .OrderBy(g => g.Status == GapStatus.Nonconformity ? 0 : 1).Select(g =>
        {
            var cites = SoaCitedLinks(byControl[g.Entry.Id]).Select(l => (l.Mapping.Polarity == MappingPolarity.Finding ? "FINDING: " : string.Empty) + EvidenceCitation.From(l).Display + $" (score {l.Mapping.Score.ToString("0.00", CultureInfo.InvariantCulture)}, {EvidenceCitation.ReviewText(l.Mapping.Review)})")
                .ToArray();
            if (g.Applicability is { } decision)
            {
                return new SoaRow(g.Entry.Id, g.Entry.Title, g.Entry.Group, decision.Applicable ? "yes" : "no", decision.Justification.Length > 0 ? decision.Justification : "Included by a reviewer.", GapAnalyzer.StatusText(g.Status), g.Reason, cites);
            }

            var justification = g.Status switch
            {
                GapStatus.Nonconformity => "Draft: applicable; a cited finding states the control is absent, failed or nonconforming. Correct it (10.2) or provide newer evidence.",
                GapStatus.Covered => "Draft: applicable; implementation is evidenced by the cited documents.",
                GapStatus.Missing => "Draft: applicable by default; no implementation evidence was found. Provide evidence or justify exclusion.",
                _ => "Draft: applicable; evidence is incomplete or unreviewed. Confirm the cited evidence.",
            };
            return new SoaRow(g.Entry.Id, g.Entry.Title, g.Entry.Group, "yes", justification, GapAnalyzer.StatusText(g.Status), g.Reason, cites);
        }).ToArray();
    }

    /// <summary>The evidence a SoA row cites: accepted mappings first, then by score, at most five.</summary>
    internal static IEnumerable<EvidenceLink> SoaCitedLinks(IEnumerable<EvidenceLink> links) =>
        links.OrderByDescending(l => l.Mapping.Review == ReviewState.Accepted).ThenByDescending(l => l.Mapping.Score).Take(5);

    /// <summary>
    /// Text as one Markdown table cell: HTML special characters become entities (a file name or heading never becomes
    /// markup in a rendered SoA), pipes are escaped and line breaks become spaces.
    /// </summary>
    public static string Md(string s)
    {
        ArgumentNullException.ThrowIfNull(s);
        return s.Replace("&", "&amp;", StringComparison.Ordinal).Replace("<", "&lt;", StringComparison.Ordinal).Replace(">", "&gt;", StringComparison.Ordinal)
            .Replace("|", "\\|", StringComparison.Ordinal).Replace("\r", " ", StringComparison.Ordinal).Replace("\n", " ", StringComparison.Ordinal);
    }

    /// <summary>RFC 4180 quoting, and a leading quote on cells a spreadsheet would run as a formula.</summary>
    internal static string Csv(string s)
    {
        if (s.Length > 0 && s[0] is '=' or '+' or '-' or '@' or '\t' or '\r')
        {
            s = "'" + s;
        }

        return "\"" + s.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";
    }

    /// <summary>OSCAL 1.1 assessment-results: one observation per evidence link, one finding per clause/control.</summary>
    public static async Task<JsonObject> BuildOscalAsync(EvidenceService evidence, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(evidence);
        var (report, links) = await evidence.GetGapSnapshotAsync(ct).ConfigureAwait(false);
        var now = report.GeneratedAt.ToUniversalTime().ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);
        var lastIngest = links.Count == 0 ? now : links.Max(l => l.Document.IngestedAt).ToUniversalTime().ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);

        var observations = new JsonArray();
        var obsByControl = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (var l in links)
        {
            var uuid = StableUuid("observation:" + l.Mapping.Id);
            var cite = EvidenceCitation.From(l);
            observations.Add(new JsonObject
            {
                ["uuid"] = uuid,
                ["title"] = l.Mapping.Polarity == MappingPolarity.Finding ? $"Finding against {l.Mapping.ControlId}" : $"Evidence for {l.Mapping.ControlId}",
                ["description"] = $"Passage of {cite.Display} mapped to {l.Mapping.ControlId} by {l.Mapping.Method} (score {l.Mapping.Score.ToString("0.00", CultureInfo.InvariantCulture)}, review {cite.Review}): {l.Mapping.Rationale}",
                ["methods"] = new JsonArray("EXAMINE"),
                ["types"] = new JsonArray(l.Mapping.Polarity == MappingPolarity.Finding ? "finding" : "control-objective"),
                ["collected"] = l.Document.IngestedAt.ToUniversalTime().ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture),
                ["props"] = new JsonArray(
                    Prop("mapping-id", l.Mapping.Id),
                    Prop("score", l.Mapping.Score.ToString("0.0000", CultureInfo.InvariantCulture)),
                    Prop("review-state", cite.Review),
                    Prop("polarity", cite.Polarity)),
                ["relevant-evidence"] = new JsonArray(new JsonObject
                {
                    ["href"] = $"#document-{l.Document.Id}",
                    ["description"] = l.Passage.Text,
                    ["props"] = new JsonArray(
                        Prop("document", l.Document.Name),
                        Prop("document-id", l.Document.Id),
                        Prop("page", l.Passage.Page.ToString(CultureInfo.InvariantCulture)),
                        Prop("passage-id", l.Passage.Id),
                        Prop("citation", cite.Display)),
                }),
            });
            if (!obsByControl.TryGetValue(l.Mapping.ControlId, out var list))
            {
                obsByControl[l.Mapping.ControlId] = list = [];
            }

            list.Add(uuid);
        }

        var findings = new JsonArray();
        foreach (var g in report.Entries.Where(g => !g.Entry.Container).OrderBy(g => g.Status == GapStatus.Nonconformity ? 0 : 1))
        {
            var finding = new JsonObject
            {
                ["uuid"] = StableUuid("finding:" + g.Entry.Id),
                ["title"] = $"{g.Entry.Id} {g.Entry.Title}",
                ["description"] = $"Gap status {GapAnalyzer.StatusText(g.Status)}: {g.Reason}",
                ["props"] = new JsonArray(Prop("gap-status", GapAnalyzer.StatusText(g.Status))),
                ["target"] = new JsonObject
                {
                    ["type"] = "objective-id",
                    ["target-id"] = "iso42001-" + g.Entry.Id.ToLowerInvariant(),
                    ["status"] = new JsonObject
                    {
                        ["state"] = g.Status == GapStatus.Covered ? "satisfied" : "not-satisfied",
                        ["reason"] = g.Status switch { GapStatus.Covered => "pass", GapStatus.NotApplicable => "other", _ => "fail" },
                    },
                },
            };
            if (obsByControl.TryGetValue(g.Entry.Id, out var related))
            {
                finding["related-observations"] = new JsonArray(related.Select(u => (JsonNode)new JsonObject { ["observation-uuid"] = u }).ToArray());
            }

            findings.Add(finding);
        }

        var result = new JsonObject
        {
            ["uuid"] = StableUuid("result:" + evidence.Catalog.Version + ":" + lastIngest + ":" + links.Count),
            ["title"] = "Aims.Evidence automated document review",
            ["description"] = "Evidence found in ingested documents for ISO/IEC 42001 clauses and Annex A controls, with gap status per entry.",
            ["start"] = lastIngest,
            ["reviewed-controls"] = new JsonObject { ["control-selections"] = new JsonArray(new JsonObject { ["include-all"] = new JsonObject() }) },
            ["observations"] = observations,
            ["findings"] = findings,
        };
        if (await InventoryItemsAsync(evidence, ct).ConfigureAwait(false) is { Count: > 0 } items)
        {
            result["local-definitions"] = new JsonObject { ["inventory-items"] = items };
        }

        return new JsonObject
        {
            ["assessment-results"] = new JsonObject
            {
                ["uuid"] = Guid.NewGuid().ToString(),
                ["metadata"] = new JsonObject
                {
                    ["title"] = "ISO/IEC 42001 evidence assessment (Aims.Evidence)",
                    ["last-modified"] = now,
                    ["version"] = evidence.Catalog.Version,
                    ["oscal-version"] = "1.1.2",
                },
                ["import-ap"] = new JsonObject { ["href"] = "#assessment-plan" },
                ["results"] = new JsonArray(result),
            },
        };
    }

    /// <summary>The AI-system inventory as OSCAL inventory items: one per system, its fields and citations as props.</summary>
    private static async Task<JsonArray> InventoryItemsAsync(EvidenceService evidence, CancellationToken ct)
    {
        var items = new JsonArray();
        foreach (var s in await evidence.Inventory.ListAsync(ct).ConfigureAwait(false))
        {
            var props = new JsonArray(Prop("asset-type", "ai-system"), Prop("ai-system-id", s.Id), Prop("name", s.Name), Prop("source", s.Source), Prop("confirmed", s.Confirmed ? "true" : "false"));
            foreach (var (name, value) in new[] { ("provider", s.Provider), ("role", s.Role), ("lifecycle", s.Lifecycle), ("risk-level", s.RiskLevel), ("unit", s.Unit) })
            {
                if (!string.IsNullOrWhiteSpace(value))
                {
                    props.Add(Prop(name, value));
                }
            }

            foreach (var c in s.Citations)
            {
                props.Add(Prop("citation", c.Citation));
            }

            items.Add(new JsonObject
            {
                ["uuid"] = StableUuid("ai-system:" + s.Id),
                ["description"] = s.Purpose is null ? s.Name : $"{s.Name}: {s.Purpose}",
                ["props"] = props,
            });
        }

        return items;
    }

    private static JsonObject Prop(string name, string value) => new() { ["name"] = name, ["value"] = value };

    /// <summary>A name-based (version 5 style) UUID so the same evidence keeps the same identifier across exports.</summary>
    public static string StableUuid(string name)
    {
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes("aims-evidence:" + name));
        hash[6] = (byte)((hash[6] & 0x0F) | 0x50);
        hash[8] = (byte)((hash[8] & 0x3F) | 0x80);
        return new Guid(hash.AsSpan(0, 16), bigEndian: true).ToString();
    }
}
