using Aims.Evidence.Core.Catalog;
using Aims.Evidence.Core.Classification;

namespace Aims.Evidence.Core.Gaps;

/// <summary>
/// The expected-document checklist: the document types an auditor expects to see as evidence for an entry.
/// When no current document of any expected type exists, the gap report says so ("no impact-assessment document").
/// </summary>
public static class ExpectedDocuments
{
    private static readonly Dictionary<string, string[]> Explicit = new(StringComparer.Ordinal)
    {
        ["5.2"] = [DocumentTypes.Policy],
        ["A.2.2"] = [DocumentTypes.Policy],
        ["A.2.3"] = [DocumentTypes.Policy],
        ["A.2.4"] = [DocumentTypes.Policy],
        ["6.1.2"] = [DocumentTypes.RiskAssessment, DocumentTypes.Procedure],
        ["8.2"] = [DocumentTypes.RiskAssessment],
        ["6.1.3"] = [DocumentTypes.RiskAssessment],
        ["8.3"] = [DocumentTypes.RiskAssessment],
        ["6.1.4"] = [DocumentTypes.ImpactAssessment],
        ["8.4"] = [DocumentTypes.ImpactAssessment],
        ["A.5.2"] = [DocumentTypes.ImpactAssessment, DocumentTypes.Procedure],
        ["A.5.3"] = [DocumentTypes.ImpactAssessment],
        ["A.5.4"] = [DocumentTypes.ImpactAssessment, DocumentTypes.AuditReport],
        ["A.5.5"] = [DocumentTypes.ImpactAssessment],
        ["9.2.1"] = [DocumentTypes.AuditReport],
        ["9.2.2"] = [DocumentTypes.AuditReport, DocumentTypes.Procedure],
        ["9.3.1"] = [DocumentTypes.AuditReport, DocumentTypes.Procedure],
        ["9.3.2"] = [DocumentTypes.AuditReport, DocumentTypes.Procedure],
        ["9.3.3"] = [DocumentTypes.AuditReport, DocumentTypes.Procedure],
        ["10.2"] = [DocumentTypes.AuditReport, DocumentTypes.IncidentReport],
        ["A.6.2.7"] = [DocumentTypes.ModelCard],
        ["A.9.4"] = [DocumentTypes.ModelCard, DocumentTypes.Policy],
        ["A.7.5"] = [DocumentTypes.DataCard],
        ["A.7.4"] = [DocumentTypes.DataCard, DocumentTypes.AuditReport],
        ["A.8.4"] = [DocumentTypes.IncidentReport, DocumentTypes.Procedure],
        ["4.3"] = [DocumentTypes.Policy, DocumentTypes.Inventory],
    };

    /// <summary>
    /// Expected document types for an entry: the explicit checklist, else the profile's usual types. External
    /// references (frameworks, standards) are never expected: they are not an organisation's own evidence.
    /// </summary>
    public static IReadOnlyList<string> For(CatalogEntry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        return Explicit.TryGetValue(entry.Id, out var types)
            ? types
            : entry.Profile.DocTypes.Where(t => t != DocumentTypes.Reference).ToArray();
    }
}
