namespace Aims.Evidence.Core.Mapping;

public static class MappingMethods
{
    public const string Embedded = "embedded";
    public const string Trained = "trained";
    public const string Lexical = "lexical";
    public const string Llm = "llm";
    public const string LlmFallback = "llm-fallback";
    public const string Manual = "manual";
}

/// <summary>
/// What a mapped passage says about its control. Serialised lower-case: <c>supports</c> (the passage evidences the
/// control) or <c>finding</c> (it states the control is absent, failed, overdue or nonconforming: evidence of a gap).
/// </summary>
public enum MappingPolarity
{
    Supports,
    Finding,
}

/// <summary>A control suggested for one passage, with a calibrated score in [0,1] and a checkable rationale.</summary>
public sealed record MappingSuggestion(string ControlId, double Score, string Method, string Rationale)
{
    public string? Model { get; init; }

    public string? PromptVersion { get; init; }

    public MappingPolarity Polarity { get; init; }

    /// <summary>The mapper itself judged <see cref="Polarity"/> (the LLM judge); <see cref="PolarityMapper"/> keeps it.</summary>
    public bool PolarityDecided { get; init; }
}
