namespace Aims.Evidence.Core.Classification;

/// <summary>The closed set of document types the classifier assigns.</summary>
public static class DocumentTypes
{
    public const string Policy = "policy";
    public const string Procedure = "procedure";
    public const string ModelCard = "model-card";
    public const string DataCard = "data-card";
    public const string RiskAssessment = "risk-assessment";
    public const string ImpactAssessment = "impact-assessment";
    public const string AuditReport = "audit-report";
    public const string IncidentReport = "incident-report";
    public const string Inventory = "inventory";
    public const string Reference = "reference";
    public const string Unrelated = "unrelated";

    public static IReadOnlyList<string> All { get; } =
    [
        Policy, Procedure, ModelCard, DataCard, RiskAssessment, ImpactAssessment,
        AuditReport, IncidentReport, Inventory, Reference, Unrelated,
    ];

    public static bool IsKnown(string value) => All.Contains(value, StringComparer.Ordinal);
}

public sealed record Classification(string DocType, double Confidence, string Rationale);
