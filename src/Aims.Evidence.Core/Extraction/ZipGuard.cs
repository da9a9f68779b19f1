using System.IO.Compression;
using System.Xml;

namespace Aims.Evidence.Core.Extraction;

/// <summary>Checks an OOXML package's zip directory and the nesting of its XML parts against the limits before any part is parsed.</summary>
public static class ZipGuard
{
    /// <summary>
    /// Settings of the depth scan: no DTD (so no entity expansion), no resolver, and at least as lenient as the Open XML
    /// SDK's reader, so a part this scan cannot read any further is one the SDK cannot read that far either.
    /// </summary>
    private static readonly XmlReaderSettings DepthScan = new()
    {
        DtdProcessing = DtdProcessing.Prohibit,
        XmlResolver = null,
        CheckCharacters = false,
        ConformanceLevel = ConformanceLevel.Auto,
        IgnoreComments = true,
        IgnoreProcessingInstructions = true,
        IgnoreWhitespace = true,
        CloseInput = false,
    };

    /// <summary>
    /// Throws <see cref="DocumentRejectedException"/> when the bytes are not a zip, look like a zip bomb, or hold an XML
    /// part nested deeper than <see cref="ExtractionLimits.MaxXmlDepth"/>.
    /// </summary>
    public static void Check(ReadOnlyMemory<byte> content, string formatName, ExtractionLimits limits)
    {
        ArgumentNullException.ThrowIfNull(limits);
        ZipArchive archive;
        try
        {
            archive = new ZipArchive(new MemoryStream(content.ToArray(), writable: false), ZipArchiveMode.Read);
        }
        catch (InvalidDataException ex)
        {
            throw new DocumentRejectedException(RejectionKind.Invalid, $"not a valid {formatName} (not a zip package)", ex);
        }

        using (archive)
        {
            if (archive.Entries.Count > limits.MaxZipEntries)
            {
                throw new DocumentRejectedException(RejectionKind.Invalid,
                    $"the {formatName} package has {archive.Entries.Count} entries (limit {limits.MaxZipEntries}); possible zip bomb");
            }

            long total = 0;
            long compressed = 0;
            foreach (var entry in archive.Entries)
            {
                total += entry.Length;
                compressed += entry.CompressedLength;
                if (entry.Length > 1024 * 1024 && entry.CompressedLength > 0 &&
                    (double)entry.Length / entry.CompressedLength > limits.MaxCompressionRatio)
                {
                    throw new DocumentRejectedException(RejectionKind.Invalid,
                        $"the {formatName} entry {entry.FullName} expands {entry.Length / entry.CompressedLength}x (limit {limits.MaxCompressionRatio}x); possible zip bomb");
                }
            }

            if (total > limits.MaxUncompressedBytes)
            {
                throw new DocumentRejectedException(RejectionKind.Invalid,
                    $"the {formatName} package expands to {total} bytes (limit {limits.MaxUncompressedBytes}); possible zip bomb");
            }

            if (total > 1024 * 1024 && compressed > 0 && (double)total / compressed > limits.MaxCompressionRatio)
            {
                throw new DocumentRejectedException(RejectionKind.Invalid,
                    $"the {formatName} package expands {total / compressed}x (limit {limits.MaxCompressionRatio}x); possible zip bomb");
            }

            // The Open XML SDK holds a parsed part as a tree of objects many times the part's size (96 MB of XML peaked
            // at 2.2 GB), so the XML it could be asked to load is bounded as a whole, whatever the parts are named.
            long xml = 0;
            foreach (var entry in archive.Entries)
            {
                if (CheckXmlDepth(entry, formatName, limits.MaxXmlDepth))
                {
                    xml += entry.Length;
                    if (xml > limits.MaxXmlBytes)
                    {
                        throw new DocumentRejectedException(RejectionKind.Invalid,
                            $"the {formatName}'s XML parts hold more than {limits.MaxXmlBytes / (1024 * 1024)} MB uncompressed (limit; passed at {entry.FullName}): too large to read within the memory limit");
                    }
                }
            }
        }
    }

    /// <summary>
    /// Streams one entry through a forward-only reader and rejects the package when elements nest deeper than the
    /// limit: the Open XML SDK builds its tree recursively, one stack frame chain per level, and pathological nesting
    /// (15,000 nested tables in 4 KB) overflows the stack, which no catch can handle. Every entry is scanned, whatever
    /// its name or content type, so an XML part cannot hide under another extension. Linear in the entry's declared
    /// size (the zip stream stops there) and memory bounded by the limit; an entry that is not XML, or stops being
    /// well-formed, stops the scan of that entry, as it stops the SDK's stricter reader at the same point or earlier.
    /// </summary>
    /// <returns>Whether the entry holds XML (at least one element was read).</returns>
    private static bool CheckXmlDepth(ZipArchiveEntry entry, string formatName, int maxDepth)
    {
        if (entry.Length == 0 || entry.FullName.EndsWith('/'))
        {
            return false;
        }

        var isXml = false;
        try
        {
            using var stream = entry.Open();
            using var reader = XmlReader.Create(stream, DepthScan);
            while (reader.Read())
            {
                if (reader.NodeType != XmlNodeType.Element)
                {
                    continue;
                }

                isXml = true;
                if (reader.Depth >= maxDepth)
                {
                    throw new DocumentRejectedException(RejectionKind.Invalid,
                        $"the {formatName} has XML nested at least {reader.Depth + 1} levels deep in {entry.FullName} (limit {maxDepth})");
                }
            }
        }
        catch (XmlException)
        {
            // Not XML (an image, a binary part) or malformed from here on: nothing deeper can be built from it.
        }
        catch (InvalidDataException ex)
        {
            throw new DocumentRejectedException(RejectionKind.Invalid, $"not a valid {formatName} (the zip entry {entry.FullName} cannot be decompressed)", ex);
        }

        return isXml;
    }

    /// <summary>Entry names of a zip, or null when the bytes are not a readable zip.</summary>
    public static IReadOnlyList<string>? TryListEntries(ReadOnlyMemory<byte> content)
    {
        try
        {
            using var archive = new ZipArchive(new MemoryStream(content.ToArray(), writable: false), ZipArchiveMode.Read);
            return archive.Entries.Take(100_000).Select(e => e.FullName).ToArray();
        }
        catch (InvalidDataException)
        {
            return null;
        }
    }
}
