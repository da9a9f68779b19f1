using System.Text.Json.Serialization;

namespace Aims.Evidence.Azure.Search;

/// <summary>One passage as stored in the Azure AI Search index (field names are the index's).</summary>
public sealed class PassageSearchDocument
{
    /// <summary>Index key: the passage id, base64url-encoded (keys allow only letters, digits, _, - and =).</summary>
    [JsonPropertyName("id")]
    public string Id { get; set; } = string.Empty;

    [JsonPropertyName("passageId")]
    public string PassageId { get; set; } = string.Empty;

    [JsonPropertyName("documentId")]
    public string DocumentId { get; set; } = string.Empty;

    [JsonPropertyName("documentName")]
    public string DocumentName { get; set; } = string.Empty;

    [JsonPropertyName("sha256")]
    public string? Sha256 { get; set; }

    [JsonPropertyName("docType")]
    public string? DocType { get; set; }

    [JsonPropertyName("status")]
    public string Status { get; set; } = "processed";

    [JsonPropertyName("version")]
    public int Version { get; set; } = 1;

    [JsonPropertyName("isCurrent")]
    public bool IsCurrent { get; set; } = true;

    [JsonPropertyName("text")]
    public string Text { get; set; } = string.Empty;

    [JsonPropertyName("headings")]
    public IList<string> Headings { get; set; } = [];

    [JsonPropertyName("page")]
    public int Page { get; set; }

    [JsonPropertyName("ordinal")]
    public int Ordinal { get; set; }

    [JsonPropertyName("start")]
    public int Start { get; set; }

    [JsonPropertyName("length")]
    public int Length { get; set; }

    [JsonPropertyName("kind")]
    public string Kind { get; set; } = "paragraph";

    [JsonPropertyName("controlIds")]
    public IList<string> ControlIds { get; set; } = [];

    /// <summary>The passage's mappings as JSON (retrievable only) so hits carry their citations.</summary>
    [JsonPropertyName("mappingsJson")]
    public string MappingsJson { get; set; } = "[]";

    [JsonPropertyName("ingestedAt")]
    public DateTimeOffset IngestedAt { get; set; }

    [JsonPropertyName("effectiveDate")]
    public DateTimeOffset? EffectiveDate { get; set; }

    [JsonPropertyName("pageCount")]
    public int PageCount { get; set; }

    [JsonPropertyName("statedDate")]
    public DateTimeOffset? StatedDate { get; set; }

    [JsonPropertyName("statedDateSource")]
    public string? StatedDateSource { get; set; }

    [JsonPropertyName("rowStart")]
    public int? RowStart { get; set; }

    [JsonPropertyName("rowEnd")]
    public int? RowEnd { get; set; }

    [JsonPropertyName("vector")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public float[]? Vector { get; set; }
}
