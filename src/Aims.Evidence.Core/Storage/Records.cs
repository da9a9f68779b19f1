using Aims.Evidence.Core.Mapping;

namespace Aims.Evidence.Core.Storage;

/// <summary>What happened to a document. Serialised lower-case: processed | failed | skipped.</summary>
public enum DocumentStatus
{
    Processed,
    Failed,
    Skipped,
}

/// <summary>One stored version of a document. A changed file under the same name becomes a new version; the newest is current.</summary>
public sealed record DocumentRecord
{
    public required string Id { get; init; }

    public required string Name { get; init; }

    public required string Sha256 { get; init; }

    public long Size { get; init; }

    public string? MediaType { get; init; }

    public string? DocType { get; init; }

    public double DocTypeConfidence { get; init; }

    public DocumentStatus Status { get; init; }

    public string? Reason { get; init; }

    public int Version { get; init; } = 1;

    /// <summary>False once a newer version of the same name supersedes this one.</summary>
    public bool IsCurrent { get; init; } = true;

    public int PageCount { get; init; }

    public int PassageCount { get; init; }

    public DateTimeOffset IngestedAt { get; init; }

    /// <summary>When the evidence took effect, set by a reviewer (overrides <see cref="StatedDate"/>); staleness uses it first.</summary>
    public DateOnly? EffectiveDate { get; init; }

    /// <summary>The date the document states about itself (metadata, "Last updated", version lines, revision tables), if any.</summary>
    public DateOnly? StatedDate { get; init; }

    /// <summary>Where <see cref="StatedDate"/> was found, e.g. "\"Last updated\" in the text" or "PDF modification date".</summary>
    public string? StatedDateSource { get; init; }

    /// <summary>The date the document is known to carry: the reviewer's effective date, else its own stated date; null when undated.</summary>
    public DateOnly? KnownDate => EffectiveDate ?? StatedDate;

    /// <summary>The date evidence from this document counts from: <see cref="KnownDate"/>, else the ingestion time.</summary>
    public DateTimeOffset EvidenceDate =>
        KnownDate is { } d ? new DateTimeOffset(d.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero) : IngestedAt;

    public string? RunId { get; init; }
}

/// <summary>A stored passage with its citation data.</summary>
public sealed record PassageRecord
{
    public required string Id { get; init; }

    public required string DocumentId { get; init; }

    public int Ordinal { get; init; }

    public int Page { get; init; }

    public IReadOnlyList<string> Headings { get; init; } = [];

    public required string Text { get; init; }

    public int Start { get; init; }

    public int Length { get; init; }

    public string Kind { get; init; } = "paragraph";

    /// <summary>For table rows (CSV, XLSX): the first and last spreadsheet row of the passage (the header is row 1); else null.</summary>
    public int? RowStart { get; init; }

    public int? RowEnd { get; init; }

    /// <summary>The mapper's best entries for this passage (also under its threshold), kept so reviews can re-rank it; null when the mapper keeps none.</summary>
    public Mapping.Feedback.PassageCandidates? Candidates { get; init; }

    /// <summary>The passage as the segmenter made it (what mappers read), from its stored form.</summary>
    public Segmentation.Passage ToPassage() =>
        new(Ordinal, Text, Page, Headings, Start, Length, Enum.TryParse<Extraction.BlockKind>(Kind, ignoreCase: true, out var kind) ? kind : Extraction.BlockKind.Paragraph)
        {
            RowStart = RowStart,
            RowEnd = RowEnd,
        };
}

/// <summary>Review state of a mapping. Rejected mappings never count as evidence.</summary>
public enum ReviewState
{
    Unreviewed,
    Accepted,
    Rejected,
}

/// <summary>A stored mapping of a passage to a control.</summary>
public sealed record MappingRecord
{
    public required string Id { get; init; }

    public required string PassageId { get; init; }

    public required string ControlId { get; init; }

    public double Score { get; init; }

    public required string Method { get; init; }

    public string Rationale { get; init; } = string.Empty;

    public string? Model { get; init; }

    public string? PromptVersion { get; init; }

    public string? ProfileVersion { get; init; }

    public ReviewState Review { get; init; } = ReviewState.Unreviewed;

    /// <summary>A finding (the passage states the control is absent or failed) never counts as coverage.</summary>
    public MappingPolarity Polarity { get; init; }

    public static MappingRecord From(string id, string passageId, MappingSuggestion s, string profileVersion) => new()
    {
        Id = id,
        PassageId = passageId,
        ControlId = s.ControlId,
        Score = s.Score,
        Method = s.Method,
        Rationale = s.Rationale,
        Model = s.Model,
        PromptVersion = s.PromptVersion,
        ProfileVersion = profileVersion,
        Polarity = s.Polarity,
    };

    /// <summary>A reviewer's own mapping of a passage to a control: method "manual", score 1, accepted.</summary>
    public static MappingRecord Manual(string id, string passageId, string controlId, string rationale, MappingPolarity polarity = MappingPolarity.Supports) => new()
    {
        Polarity = polarity,
        Id = id,
        PassageId = passageId,
        ControlId = controlId,
        Score = 1.0,
        Method = MappingMethods.Manual,
        Rationale = rationale,
        Review = ReviewState.Accepted,
    };
}

/// <summary>A passage with the mappings the system stands behind, as written in one ingestion.</summary>
public sealed record PassageWithMappings(PassageRecord Passage, IReadOnlyList<MappingRecord> Mappings);

/// <summary>Everything one document ingestion writes, atomically.</summary>
public sealed record DocumentWrite(DocumentRecord Document, IReadOnlyList<PassageWithMappings> Passages);

/// <summary>One evidence link for gap analysis: a current document's passage mapped to a control.</summary>
public sealed record EvidenceLink(DocumentRecord Document, PassageRecord Passage, MappingRecord Mapping);

/// <summary>A ranked search result with its citation.</summary>
public sealed record SearchHit(DocumentRecord Document, PassageRecord Passage, double Score, IReadOnlyList<MappingRecord> Mappings);

public sealed record SearchQuery(string Text, string? ControlId = null, string? DocType = null, int Limit = 20);

/// <summary>One ingestion run (a CLI invocation, a watcher batch or a function execution).</summary>
public sealed record RunRecord
{
    public required string Id { get; init; }

    public DateTimeOffset StartedAt { get; init; }

    public DateTimeOffset? FinishedAt { get; init; }

    public int Processed { get; init; }

    public int Failed { get; init; }

    public int Skipped { get; init; }

    public int Unchanged { get; init; }
}
