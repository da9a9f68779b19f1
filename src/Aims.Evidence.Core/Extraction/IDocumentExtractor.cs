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

    /// <summary>
    /// Total uncompressed size of the XML parts of a DOCX, XLSX or PPTX package (any entry that reads as XML, whatever
    /// its name). The Open XML SDK's tree of a part takes many times its size in memory; this keeps an office document
    /// within the memory budget of the other formats (media parts are not counted).
    /// </summary>
    public long MaxXmlBytes { get; init; } = 40L * 1024 * 1024;

    /// <summary>
    /// Characters of text one document may hold: checked on the file's characters before a text format (plain text,
    /// Markdown, MDX, reStructuredText, CSV, JSON, YAML, HTML with its markup) is parsed, and on the extracted text of
    /// every format before segmentation. About 10,000 pages; it keeps the memory of parsing, segmenting and mapping a
    /// document within budget (a 50 MB line of letters peaked at 1.4-1.8 GB through the whole pipeline).
    /// </summary>
    public int MaxTextChars { get; init; } = 20_000_000;

    /// <summary>
    /// Passages one document may give: checked after segmentation, before the expensive steps (the trained classifier
    /// and mapper embed every passage with two encoders and score it against every entry: 4,990 passages of 300 words
    /// took 339 s on 2 cores), so a document over it fails with the count and the limit instead of holding a worker
    /// for hours (a 150,000-row CSV is under the text and block caps). The largest real document of the training
    /// corpus gives 1,292 passages and its densest PDF 7 a page, so 5,000 is a report of about 700 pages; the text cap
    /// alone lets through documents of tens of thousands of passages.
    /// </summary>
    public int MaxPassages { get; init; } = 5_000;
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
