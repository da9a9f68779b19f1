using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Aims.Evidence.Core.Catalog;
using Aims.Evidence.Core.Crosswalks;

namespace Aims.Evidence.Tests.Catalog;

/// <summary>The shipped crosswalks: a public source on every row, ISO/IEC 42001 ids that exist, well-formed and complete target ids.</summary>
public sealed partial class CrosswalkTests
{
    private static Crosswalk Framework(string id) => CrosswalkCatalog.Default.Frameworks.Single(f => f.Id == id);

    [Fact]
    public void The_three_frameworks_load_in_order_and_are_found_by_id_in_any_case()
    {
        Assert.Equal(["iso27001", "nist-ai-rmf", "eu-ai-act"], CrosswalkCatalog.Default.Frameworks.Select(f => f.Id));
        Assert.True(CrosswalkCatalog.Default.TryGet("NIST-AI-RMF", out var nist));
        Assert.Equal("nist-ai-rmf", nist!.Id);
        Assert.False(CrosswalkCatalog.Default.TryGet("soc2", out _));
        Assert.False(CrosswalkCatalog.Default.TryGet(null, out _));
    }

    [Fact]
    public void Every_row_has_a_public_https_source_a_title_a_group_and_the_framework_too()
    {
        foreach (var f in CrosswalkCatalog.Default.Frameworks)
        {
            Assert.True(IsHttps(f.Source), $"{f.Id}: source '{f.Source}'");
            Assert.False(string.IsNullOrWhiteSpace(f.Basis), f.Id);
            Assert.NotEmpty(f.Requirements);
            foreach (var r in f.Requirements)
            {
                Assert.True(IsHttps(r.Source), $"{f.Id} {r.Id}: source '{r.Source}'");
                Assert.False(string.IsNullOrWhiteSpace(r.Title), $"{f.Id} {r.Id}: no title");
                Assert.True(r.Title.Length <= 120, $"{f.Id} {r.Id}: a title, not a text ({r.Title.Length} characters)");
                Assert.False(string.IsNullOrWhiteSpace(r.Group), $"{f.Id} {r.Id}: no group");
            }
        }

        static bool IsHttps(string url) => Uri.TryCreate(url, UriKind.Absolute, out var u) && u.Scheme == Uri.UriSchemeHttps && u.Host.Contains('.', StringComparison.Ordinal);
    }

    [Fact]
    public void Every_related_id_is_a_mappable_entry_of_the_catalog_and_of_the_shared_structure()
    {
        var shared = File.Exists(Path.Combine(TestPaths.SharedDir, "iso42001", "structure.json"))
            ? JsonNode.Parse(File.ReadAllText(Path.Combine(TestPaths.SharedDir, "iso42001", "structure.json")))!.AsArray().Select(e => e!["id"]!.GetValue<string>()).ToHashSet(StringComparer.Ordinal)
            : null;
        foreach (var f in CrosswalkCatalog.Default.Frameworks)
        {
            foreach (var r in f.Requirements)
            {
                Assert.Equal(r.Related.Count, r.Related.Distinct(StringComparer.Ordinal).Count());
                Assert.Equal(r.Related.Count == 0, r.Relation == CrosswalkRelation.None);
                foreach (var id in r.Related)
                {
                    Assert.True(IsoCatalog.Default.TryGet(id, out var entry), $"{f.Id} {r.Id}: {id} is not an ISO/IEC 42001 entry");
                    Assert.False(entry!.Container, $"{f.Id} {r.Id}: {id} is a grouping clause; relate to its children");
                    Assert.True(shared is null || shared.Contains(id), $"{f.Id} {r.Id}: {id} is not in the shared structure.json");
                }
            }
        }
    }

    [Theory]
    [InlineData("iso27001")]
    [InlineData("nist-ai-rmf")]
    [InlineData("eu-ai-act")]
    public void Target_ids_are_well_formed_and_unique(string framework)
    {
        var pattern = framework switch
        {
            "iso27001" => Iso27001Id(),
            "nist-ai-rmf" => NistId(),
            _ => AiActId(),
        };
        var ids = Framework(framework).Requirements.Select(r => r.Id).ToArray();
        Assert.All(ids, id => Assert.Matches(pattern, id));
        Assert.Equal(ids.Length, ids.Distinct(StringComparer.Ordinal).Count());
    }

    [Fact]
    public void Iso27001_has_every_clause_leaf_and_the_93_annex_a_controls_of_2022_in_order()
    {
        string[] clauses =
        [
            "4.1", "4.2", "4.3", "4.4", "5.1", "5.2", "5.3", "6.1.1", "6.1.2", "6.1.3", "6.2", "6.3", "7.1", "7.2", "7.3", "7.4",
            "7.5.1", "7.5.2", "7.5.3", "8.1", "8.2", "8.3", "9.1", "9.2.1", "9.2.2", "9.3.1", "9.3.2", "9.3.3", "10.1", "10.2",
        ];
        var controls = new[] { (5, 37), (6, 8), (7, 14), (8, 34) }.SelectMany(t => Enumerable.Range(1, t.Item2).Select(n => $"A.{t.Item1}.{n}")).ToArray();
        Assert.Equal(93, controls.Length);
        Assert.Equal(clauses.Concat(controls), Framework("iso27001").Requirements.Select(r => r.Id));
    }

    [Fact]
    public void Iso27001_equivalent_rows_are_harmonized_clauses_related_to_the_same_number_and_say_isms_evidence_counts()
    {
        var rows = Framework("iso27001").Requirements;
        var equivalent = rows.Where(r => r.Relation == CrosswalkRelation.Equivalent).ToArray();
        Assert.NotEmpty(equivalent);
        Assert.All(equivalent, r =>
        {
            Assert.DoesNotContain("A.", r.Id, StringComparison.Ordinal);
            Assert.Equal([r.Id], r.Related);
            Assert.Contains("ISMS", r.Note, StringComparison.Ordinal);
        });

        // The security-specific controls with no AI management system counterpart are said to be out of its reach.
        var none = rows.Where(r => r.Relation == CrosswalkRelation.None).ToArray();
        Assert.NotEmpty(none);
        Assert.All(none, r => Assert.StartsWith("A.", r.Id, StringComparison.Ordinal));
        Assert.All(none, r => Assert.False(string.IsNullOrWhiteSpace(r.Note)));
    }

    [Fact]
    public void Nist_covers_all_72_subcategories_each_under_its_function_and_category()
    {
        var expected = new Dictionary<string, int[]>(StringComparer.Ordinal)
        {
            ["GOVERN"] = [7, 3, 2, 3, 2, 2],
            ["MAP"] = [6, 3, 5, 2, 2],
            ["MEASURE"] = [3, 13, 3, 3],
            ["MANAGE"] = [4, 4, 2, 3],
        };
        var ids = expected.SelectMany(f => f.Value.SelectMany((count, c) => Enumerable.Range(1, count).Select(s => $"{f.Key} {c + 1}.{s}"))).ToArray();
        Assert.Equal(72, ids.Length);
        var rows = Framework("nist-ai-rmf").Requirements;
        Assert.Equal(ids, rows.Select(r => r.Id));
        foreach (var r in rows)
        {
            // "MEASURE 2.11" sits in the group "MEASURE 2 ...": its function and category.
            var category = r.Id[..r.Id.IndexOf('.', StringComparison.Ordinal)];
            Assert.StartsWith(category + " ", r.Group, StringComparison.Ordinal);
            Assert.NotEqual(CrosswalkRelation.None, r.Relation);
        }

        // One title per category.
        Assert.All(rows.GroupBy(r => r.Id[..r.Id.IndexOf('.', StringComparison.Ordinal)]), g => Assert.Single(g.Select(r => r.Group).Distinct()));
    }

    [Fact]
    public void Ai_act_has_the_articles_on_high_risk_systems_and_general_purpose_models_each_citing_its_article_on_eur_lex()
    {
        var rows = Framework("eu-ai-act").Requirements;
        foreach (var article in new[] { 9, 10, 11, 12, 13, 14, 15, 17, 26, 27, 43, 49, 50, 53, 55, 72, 73 })
        {
            Assert.Contains(rows, r => r.Id == $"Art. {article}");
        }

        foreach (var r in rows)
        {
            var number = AiActId().Match(r.Id).Groups["n"].Value;
            Assert.Equal($"https://eur-lex.europa.eu/eli/reg/2024/1689/oj/eng#art_{number}", r.Source);

            // Management-system evidence supports the Regulation's obligations but never shows conformity by itself.
            Assert.NotEqual(CrosswalkRelation.Equivalent, r.Relation);
        }
    }

    [GeneratedRegex(@"^(?:4\.[1-4]|5\.[1-3]|6\.1\.[1-3]|6\.[23]|7\.[1-4]|7\.5\.[1-3]|8\.[1-3]|9\.1|9\.2\.[12]|9\.3\.[1-3]|10\.[12]|A\.5\.(?:[1-9]|[12][0-9]|3[0-7])|A\.6\.[1-8]|A\.7\.(?:[1-9]|1[0-4])|A\.8\.(?:[1-9]|[12][0-9]|3[0-4]))$")]
    private static partial Regex Iso27001Id();

    [GeneratedRegex(@"^(?:GOVERN|MAP|MEASURE|MANAGE) [1-9]\.(?:[1-9]|1[0-9])$")]
    private static partial Regex NistId();

    [GeneratedRegex(@"^Art\. (?<n>[1-9][0-9]{0,2})(?:\([1-9][0-9]?\))?$")]
    private static partial Regex AiActId();
}
