namespace Aims.Evidence.Core.Catalog;

public enum EntryKind
{
    Clause,
    Control,
}

/// <summary>
/// One ISO/IEC 42001 clause or Annex A control: the official id, title and hierarchy (facts), plus our own
/// plain-language summary, the documentary evidence an auditor expects, and the search profile the mapper uses.
/// </summary>
public sealed record CatalogEntry
{
    public required string Id { get; init; }

    public required EntryKind Kind { get; init; }

    public required string Title { get; init; }

    /// <summary>The clause ("6 Planning") or Annex A objective ("A.6 AI system life cycle") the entry sits in.</summary>
    public required string Group { get; init; }

    /// <summary>The Annex A sub-objective (A.6.1 or A.6.2), where there is one.</summary>
    public string? SubGroup { get; init; }

    public string? Parent { get; init; }

    public bool Container { get; init; }

    public string Summary { get; init; } = string.Empty;

    public IReadOnlyList<string> ExpectedEvidence { get; init; } = [];

    public SearchProfile Profile { get; init; } = new();
}

/// <summary>What the mapper looks for: key terms, example evidence statements, confusers and usual document types.</summary>
public sealed record SearchProfile
{
    /// <summary>Terms and short phrases typical of evidence for this entry.</summary>
    public IReadOnlyList<string> Keywords { get; init; } = [];

    /// <summary>Example evidence statements in the varied wording of real documents (written by us).</summary>
    public IReadOnlyList<string> Examples { get; init; } = [];

    /// <summary>Cues that point to a commonly confused neighbour instead, with that neighbour's id.</summary>
    public IReadOnlyList<NegativeCue> NegativeCues { get; init; } = [];

    /// <summary>Document types (see <see cref="Classification.DocumentTypes"/>) that usually evidence this entry.</summary>
    public IReadOnlyList<string> DocTypes { get; init; } = [];

    /// <summary>Section headings under which evidence for this entry is typically found.</summary>
    public IReadOnlyList<string> Headings { get; init; } = [];
}

public sealed record NegativeCue(string Cue, string PreferId);
