namespace Aims.Evidence.Core.Extraction;

/// <summary>
/// The single entry point for extraction: sniffs the media type, picks the extractor, enforces the limits and
/// turns any library failure into a <see cref="DocumentRejectedException"/> so nothing crashes the caller.
/// </summary>
public sealed class DocumentReader : IDocumentReader
{
    private readonly Dictionary<string, IDocumentExtractor> _byMediaType = new(StringComparer.OrdinalIgnoreCase);

    public DocumentReader(IEnumerable<IDocumentExtractor> extractors)
    {
        ArgumentNullException.ThrowIfNull(extractors);
        foreach (var extractor in extractors)
        {
            foreach (var mediaType in extractor.MediaTypes)
            {
                _byMediaType[mediaType] = extractor;
            }
        }
    }

    /// <summary>Media types this reader can extract.</summary>
    public IReadOnlyCollection<string> SupportedMediaTypes => _byMediaType.Keys;

    /// <summary>A reader with every built-in extractor.</summary>
    public static DocumentReader CreateDefault() => new(BuiltInExtractors());

    /// <summary>
    /// A reader with the built-in extractors, where each of <paramref name="overrides"/> takes over the media types
    /// it declares (e.g. Document Intelligence for PDFs in the cloud).
    /// </summary>
    public static DocumentReader CreateWith(params IDocumentExtractor[] overrides) => new(BuiltInExtractors().Concat(overrides));

    /// <summary>The built-in, local extractors, one per format.</summary>
    public static IDocumentExtractor[] BuiltInExtractors() =>
    [
        new PdfExtractor(),
        new DocxExtractor(),
        new XlsxExtractor(),
        new PptxExtractor(),
        new HtmlExtractor(),
        new MarkdownExtractor(),
        new RstExtractor(),
        new PlainTextExtractor(),
        new CsvExtractor(),
        new StructuredDataExtractor(),
    ];

    /// <summary>Human-readable format name for messages.</summary>
    public static string FormatName(string mediaType) => mediaType switch
    {
        MediaTypes.Pdf => "PDF",
        MediaTypes.Docx => "DOCX",
        MediaTypes.Xlsx => "XLSX",
        MediaTypes.Pptx => "PPTX",
        MediaTypes.Html => "HTML",
        MediaTypes.Markdown => "Markdown",
        MediaTypes.Mdx => "MDX",
        MediaTypes.ReStructuredText => "reStructuredText",
        MediaTypes.Csv => "CSV",
        MediaTypes.Yaml => "YAML",
        MediaTypes.Json => "JSON",
        _ => "text",
    };

    /// <summary>
    /// Extracts a document. Throws <see cref="DocumentRejectedException"/> (Unsupported = skip, Invalid = failed)
    /// or <see cref="OperationCanceledException"/>; nothing else.
    /// </summary>
    public async Task<ExtractedDocument> ReadAsync(ReadOnlyMemory<byte> content, string fileName, ExtractionLimits limits, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(limits);
        ct.ThrowIfCancellationRequested();
        fileName ??= string.Empty;
        if (content.Length > limits.MaxFileBytes)
        {
            throw new DocumentRejectedException(RejectionKind.Invalid,
                $"the file is {content.Length} bytes, over the limit of {limits.MaxFileBytes} bytes");
        }

        string mediaType;
        try
        {
            mediaType = MediaTypeSniffer.Sniff(content, fileName);
        }
        catch (DocumentRejectedException)
        {
            throw;
        }
        catch (Exception ex)
        {
            throw new DocumentRejectedException(RejectionKind.Invalid, $"could not identify the file type: {Short(ex)}", ex);
        }

        if (!_byMediaType.TryGetValue(mediaType, out var extractor))
        {
            throw new DocumentRejectedException(RejectionKind.Unsupported, $"no extractor for {mediaType}");
        }

        var format = FormatName(mediaType);
        if (mediaType is not (MediaTypes.Pdf or MediaTypes.Docx or MediaTypes.Xlsx or MediaTypes.Pptx)
            && System.Text.Encoding.UTF8.GetCharCount(content.Span) is var chars && chars > limits.MaxTextChars)
        {
            throw new DocumentRejectedException(RejectionKind.Invalid, TextLimitReason(format, chars, limits));
        }

        ExtractedDocument document;
        try
        {
            document = await extractor.ExtractAsync(content, new ExtractionContext(fileName, mediaType, limits), ct).ConfigureAwait(false);
        }
        catch (DocumentRejectedException)
        {
            throw;
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception ex)
        {
            throw new DocumentRejectedException(RejectionKind.Invalid, $"could not read the {format} file: {Short(ex)}", ex);
        }

        if (document.Text.Length > limits.MaxTextChars)
        {
            throw new DocumentRejectedException(RejectionKind.Invalid, TextLimitReason(format, document.Text.Length, limits));
        }

        if (document.Blocks.Count > limits.MaxBlocks)
        {
            throw new DocumentRejectedException(RejectionKind.Invalid,
                $"the {format} file has {document.Blocks.Count} blocks, over the limit of {limits.MaxBlocks}");
        }

        if (document.PageCount > limits.MaxPages)
        {
            throw new DocumentRejectedException(RejectionKind.Invalid,
                $"the {format} file has {document.PageCount} pages, over the limit of {limits.MaxPages}");
        }

        return document;
    }

    private static string TextLimitReason(string format, int chars, ExtractionLimits limits) =>
        $"the {format} file has {chars} characters of text, over the limit of {limits.MaxTextChars}";

    private static string Short(Exception ex)
    {
        var message = TextNormalizer.CollapseWhitespace(ex.Message);
        if (message.Length == 0)
        {
            message = ex.GetType().Name;
        }

        return message.Length > 200 ? message[..200] + "..." : message;
    }
}
