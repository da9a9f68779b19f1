using Aims.Evidence.Core.Catalog;

namespace Aims.Evidence.Tests;

public class CatalogTests
{
    private static readonly string[] ExpectedIds =
    [
        "4.1", "4.2", "4.3", "4.4",
        "5.1", "5.2", "5.3",
        "6.1", "6.1.1", "6.1.2", "6.1.3", "6.1.4", "6.2", "6.3",
        "7.1", "7.2", "7.3", "7.4", "7.5", "7.5.1", "7.5.2", "7.5.3",
        "8.1", "8.2", "8.3", "8.4",
        "9.1", "9.2", "9.2.1", "9.2.2", "9.3", "9.3.1", "9.3.2", "9.3.3",
        "10.1", "10.2",
        "A.2.2", "A.2.3", "A.2.4",
        "A.3.2", "A.3.3",
        "A.4.2", "A.4.3", "A.4.4", "A.4.5", "A.4.6",
        "A.5.2", "A.5.3", "A.5.4", "A.5.5",
        "A.6.1.2", "A.6.1.3",
        "A.6.2.2", "A.6.2.3", "A.6.2.4", "A.6.2.5", "A.6.2.6", "A.6.2.7", "A.6.2.8",
        "A.7.2", "A.7.3", "A.7.4", "A.7.5", "A.7.6",
        "A.8.2", "A.8.3", "A.8.4", "A.8.5",
        "A.9.2", "A.9.3", "A.9.4",
        "A.10.2", "A.10.3", "A.10.4",
    ];

    private static readonly string[] ExpectedContainers = ["6.1", "7.5", "9.2", "9.3"];

    private static readonly HashSet<string> AllowedDocTypes = new(StringComparer.Ordinal)
    {
        "policy", "procedure", "model-card", "data-card", "risk-assessment", "impact-assessment",
        "audit-report", "incident-report", "inventory", "reference",
    };

    private static IsoCatalog Catalog => IsoCatalog.Default;

    [Fact]
    public void Catalog_has_the_exact_74_ids_in_order()
    {
        Assert.Equal(74, ExpectedIds.Length);
        Assert.Equal(ExpectedIds, Catalog.Entries.Select(e => e.Id).ToArray());
    }

    [Fact]
    public void Catalog_has_36_clauses_and_38_controls()
    {
        Assert.Equal(36, Catalog.Entries.Count(e => e.Kind == EntryKind.Clause));
        Assert.Equal(38, Catalog.Entries.Count(e => e.Kind == EntryKind.Control));
        Assert.All(Catalog.Entries, e => Assert.Equal(e.Id.StartsWith("A.", StringComparison.Ordinal), e.Kind == EntryKind.Control));
    }

    [Fact]
    public void Containers_are_exactly_6_1_7_5_9_2_9_3()
    {
        Assert.Equal(ExpectedContainers, Catalog.Entries.Where(e => e.Container).Select(e => e.Id).ToArray());
        Assert.Equal(70, Catalog.Mappable.Count());
    }

    [Fact]
    public void Version_is_set()
    {
        Assert.Equal("1.0.0", Catalog.Version);
    }

    [Fact]
    public void Every_entry_has_a_title_group_and_summary()
    {
        Assert.All(Catalog.Entries, e =>
        {
            Assert.False(string.IsNullOrWhiteSpace(e.Title), e.Id);
            Assert.False(string.IsNullOrWhiteSpace(e.Group), e.Id);
            Assert.False(string.IsNullOrWhiteSpace(e.Summary), e.Id);
            Assert.NotEmpty(e.ExpectedEvidence);
        });
    }

    [Fact]
    public void Every_mappable_entry_has_a_complete_profile()
    {
        Assert.All(Catalog.Mappable, e =>
        {
            Assert.False(string.IsNullOrWhiteSpace(e.Summary), e.Id);
            Assert.True(e.ExpectedEvidence.Count >= 3, $"{e.Id}: {e.ExpectedEvidence.Count} expected evidence items");
            Assert.True(e.Profile.Keywords.Count >= 8, $"{e.Id}: {e.Profile.Keywords.Count} keywords");
            Assert.True(e.Profile.Examples.Count >= 6, $"{e.Id}: {e.Profile.Examples.Count} examples");
            Assert.True(e.Profile.DocTypes.Count >= 1, $"{e.Id}: no doc types");
            Assert.All(e.Profile.DocTypes, d => Assert.Contains(d, AllowedDocTypes));
            Assert.All(e.ExpectedEvidence, x => Assert.False(string.IsNullOrWhiteSpace(x), e.Id));
            Assert.All(e.Profile.Keywords, x => Assert.False(string.IsNullOrWhiteSpace(x), e.Id));
            Assert.All(e.Profile.Examples, x => Assert.False(string.IsNullOrWhiteSpace(x), e.Id));
        });
    }

    [Fact]
    public void Doc_types_of_all_entries_are_from_the_allowed_set()
    {
        Assert.All(Catalog.Entries, e => Assert.All(e.Profile.DocTypes, d => Assert.Contains(d, AllowedDocTypes)));
    }

    [Fact]
    public void Every_negative_cue_points_to_another_existing_entry()
    {
        Assert.All(Catalog.Entries, e => Assert.All(e.Profile.NegativeCues, c =>
        {
            Assert.False(string.IsNullOrWhiteSpace(c.Cue), e.Id);
            Assert.True(Catalog.Contains(c.PreferId), $"{e.Id}: negative cue prefers unknown id {c.PreferId}");
            Assert.NotEqual(e.Id, c.PreferId);
        }));
    }

    [Fact]
    public void Every_parent_exists_and_is_a_container()
    {
        Assert.All(Catalog.Entries.Where(e => e.Parent is not null), e =>
        {
            Assert.True(Catalog.Contains(e.Parent!), $"{e.Id}: parent {e.Parent} missing");
            Assert.True(Catalog[e.Parent!].Container, $"{e.Id}: parent {e.Parent} is not a container");
        });
    }

    [Fact]
    public void Equivalent_treats_container_and_child_as_the_same()
    {
        Assert.True(IsoCatalog.Equivalent("9.2", "9.2.1"));
        Assert.True(IsoCatalog.Equivalent("9.2.1", "9.2"));
        Assert.False(IsoCatalog.Equivalent("9.2", "9.3.1"));
        Assert.False(IsoCatalog.Equivalent("9.2.1", "9.2.2"));
    }
}
