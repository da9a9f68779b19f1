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

/// <summary>A control suggested for one passage, with a calibrated score in [0,1] and a checkable rationale.</summary>
public sealed record MappingSuggestion(string ControlId, double Score, string Method, string Rationale)
{
    public string? Model { get; init; }

    public string? PromptVersion { get; init; }
}
