using DocumentFormat.OpenXml.Packaging;

namespace Aims.Evidence.Core.Extraction;

/// <summary>Opens an Open XML package (DOCX, XLSX, PPTX) the one guarded way: the zip limits first (<see cref="ZipGuard"/>),
/// then read-only with each part capped at the uncompressed-size limit; a package the SDK cannot read is a rejected
/// document with the SDK's reason.</summary>
internal static class OpenXmlPackages
{
    public static T Open<T>(ReadOnlyMemory<byte> content, string formatName, ExtractionLimits limits, Func<Stream, OpenSettings, T> open)
        where T : OpenXmlPackage
    {
        ZipGuard.Check(content, formatName, limits);
        // The package reads the stream lazily while it is open; it does not own it, and a MemoryStream holds no handle.
        var stream = new MemoryStream(content.ToArray(), writable: false);
        try
        {
            return open(stream, new OpenSettings { MaxCharactersInPart = limits.MaxUncompressedBytes });
        }
        catch (Exception ex) when (ex is OpenXmlPackageException or InvalidDataException or FileFormatException)
        {
            throw new DocumentRejectedException(RejectionKind.Invalid, $"not a valid {formatName}: {TextNormalizer.CollapseWhitespace(ex.Message)}", ex);
        }
    }
}
