namespace Aims.Evidence.Core.Extraction;

/// <summary>Well-known media types the pipeline distinguishes.</summary>
public static class MediaTypes
{
    public const string Pdf = "application/pdf";
    public const string Docx = "application/vnd.openxmlformats-officedocument.wordprocessingml.document";
    public const string Xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
    public const string Pptx = "application/vnd.openxmlformats-officedocument.presentationml.presentation";
    public const string Html = "text/html";
    public const string Markdown = "text/markdown";
    public const string Mdx = "text/mdx";
    public const string ReStructuredText = "text/x-rst";
    public const string PlainText = "text/plain";
    public const string Csv = "text/csv";
    public const string Yaml = "application/yaml";
    public const string Json = "application/json";
}

/// <summary>Everything an extractor may need besides the bytes.</summary>
public sealed record ExtractionContext(string FileName, string MediaType, ExtractionLimits Limits);

/// <summary>Caps that keep hostile documents from exhausting the host.</summary>
public sealed record ExtractionLimits
{
    public static ExtractionLimits Default { get; } = new();

    public long MaxFileBytes { get; init; } = 100L * 1024 * 1024;

    public int MaxPages { get; init; } = 2000;

    public long MaxUncompressedBytes { get; init; } = 512L * 1024 * 1024;

    public int MaxZipEntries { get; init; } = 10_000;

    public double MaxCompressionRatio { get; init; } = 200;

    public int MaxBlocks { get; init; } = 200_000;

    /// <summary>
    /// Deepest element nesting of any XML part of a DOCX, XLSX or PPTX package (checked by a streaming pass before the
    /// Open XML SDK builds its tree, which recurses once per level and overflows the stack on pathological nesting).
    /// </summary>
    public int MaxXmlDepth { get; init; } = 256;
}

/// <summary>Turns the bytes of one format into the layout model.</summary>
public interface IDocumentExtractor
{
    /// <summary>Media types this extractor reads.</summary>
    IReadOnlyCollection<string> MediaTypes { get; }

    /// <summary>Extracts the layout. Throws <see cref="DocumentRejectedException"/> for documents it cannot read.</summary>
    Task<ExtractedDocument> ExtractAsync(ReadOnlyMemory<byte> content, ExtractionContext context, CancellationToken cancellationToken = default);
}

/// <summary>Outcome category for a document the pipeline did not process.</summary>
public enum RejectionKind
{
    /// <summary>Not a format we read (e.g. an image or an executable): recorded as skipped.</summary>
    Unsupported,

    /// <summary>A format we read but this file is broken, encrypted, empty or over a limit: recorded as failed.</summary>
    Invalid,
}

/// <summary>Raised by sniffing and extraction with a reason a person understands.</summary>
public sealed class DocumentRejectedException : Exception
{
    public DocumentRejectedException(RejectionKind kind, string reason, Exception? inner = null)
        : base(reason, inner)
    {
        Kind = kind;
    }

    public DocumentRejectedException()
        : this(RejectionKind.Invalid, "The document was rejected.")
    {
    }

    public DocumentRejectedException(string message)
        : this(RejectionKind.Invalid, message)
    {
    }

    public DocumentRejectedException(string message, Exception innerException)
        : this(RejectionKind.Invalid, message, innerException)
    {
    }

    public RejectionKind Kind { get; }
}
