using System.Text;
using System.Text.Json;

namespace Aims.Evidence.Core.Extraction;

/// <summary>Decides a document's media type from its content (magic bytes) first and its extension second.</summary>
public static class MediaTypeSniffer
{
    private static readonly (byte[] Magic, string Name)[] BinaryMagics =
    [
        ([0x89, 0x50, 0x4E, 0x47], "PNG image"),
        ([0xFF, 0xD8, 0xFF], "JPEG image"),
        ("GIF8"u8.ToArray(), "GIF image"),
        ([0x7F, 0x45, 0x4C, 0x46], "ELF executable"),
        ("MZ"u8.ToArray(), "Windows executable"),
        ([0x1F, 0x8B], "gzip archive"),
        ("BZh"u8.ToArray(), "bzip2 archive"),
        ([0xFD, 0x37, 0x7A, 0x58, 0x5A, 0x00], "xz archive"),
        ([0x37, 0x7A, 0xBC, 0xAF, 0x27, 0x1C], "7z archive"),
        ("Rar!"u8.ToArray(), "RAR archive"),
        ([0x28, 0xB5, 0x2F, 0xFD], "zstd archive"),
        ([0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1], "legacy Office (OLE2) document"),
        ("II*\0"u8.ToArray(), "TIFF image"),
        ("MM\0*"u8.ToArray(), "TIFF image"),
        ("BM"u8.ToArray(), "BMP image"),
        ("%!PS"u8.ToArray(), "PostScript file"),
        ("{\\rtf"u8.ToArray(), "RTF document"),
        ([0xCA, 0xFE, 0xBA, 0xBE], "Java class file"),
        ([0x00, 0x61, 0x73, 0x6D], "WebAssembly module"),
        ("SQLite format 3"u8.ToArray(), "SQLite database"),
        ("OggS"u8.ToArray(), "Ogg media"),
        ("fLaC"u8.ToArray(), "FLAC audio"),
        ("ID3"u8.ToArray(), "MP3 audio"),
        ([0x1A, 0x45, 0xDF, 0xA3], "Matroska/WebM media"),
        ("wOFF"u8.ToArray(), "web font"),
        ("wOF2"u8.ToArray(), "web font"),
    ];

    /// <summary>
    /// Returns one of <see cref="MediaTypes"/> or throws <see cref="DocumentRejectedException"/>:
    /// Unsupported for formats we do not read, Invalid for an empty file.
    /// </summary>
    public static string Sniff(ReadOnlyMemory<byte> content, string fileName)
    {
        var bytes = content.Span;
        if (bytes.Length == 0)
        {
            throw new DocumentRejectedException(RejectionKind.Invalid, "empty file");
        }

        var ext = Path.GetExtension(fileName ?? string.Empty).TrimStart('.').ToLowerInvariant();

        if (bytes.StartsWith("%PDF-"u8) || (bytes.Length > 5 && bytes[..Math.Min(bytes.Length, 1024)].IndexOf("%PDF-"u8) >= 0 && ext == "pdf"))
        {
            return MediaTypes.Pdf;
        }

        if (bytes.StartsWith("PK\x03\x04"u8) || bytes.StartsWith("PK\x05\x06"u8))
        {
            return SniffZip(content, ext);
        }

        if (ext is "docx" or "xlsx" or "pptx")
        {
            throw new DocumentRejectedException(RejectionKind.Invalid, $"not a valid {ext.ToUpperInvariant()} (not a zip package)");
        }

        if (bytes.Length >= 12 && bytes.StartsWith("RIFF"u8))
        {
            throw Unsupported("RIFF media (audio/video/image)");
        }

        if (bytes.Length >= 12 && bytes[4..8].SequenceEqual("ftyp"u8))
        {
            throw Unsupported("ISO media (video/image)");
        }

        foreach (var (magic, name) in BinaryMagics)
        {
            if (bytes.StartsWith(magic))
            {
                throw Unsupported(name);
            }
        }

        if (!TextDecoding.HasUtf16Bom(bytes) && LooksBinary(bytes))
        {
            throw Unsupported("binary content (NUL or control bytes); not a text document");
        }

        var head = DecodeHead(bytes);
        var trimmed = head.TrimStart();
        if (trimmed.StartsWith("<!doctype html", StringComparison.OrdinalIgnoreCase) ||
            trimmed.StartsWith("<html", StringComparison.OrdinalIgnoreCase) ||
            ext is "html" or "htm" or "xhtml")
        {
            return MediaTypes.Html;
        }

        if (ext is not ("md" or "mdx" or "markdown" or "rst" or "csv" or "tsv" or "yaml" or "yml" or "txt") &&
            (trimmed.StartsWith('{') || trimmed.StartsWith('[')) && ParsesAsJson(bytes))
        {
            return MediaTypes.Json;
        }

        return ext switch
        {
            "md" or "markdown" or "mkd" => MediaTypes.Markdown,
            "mdx" => MediaTypes.Mdx,
            "rst" or "rest" => MediaTypes.ReStructuredText,
            "csv" or "tsv" => MediaTypes.Csv,
            "yaml" or "yml" => MediaTypes.Yaml,
            "json" => MediaTypes.Json,
            _ => MediaTypes.PlainText,
        };
    }

    private static string SniffZip(ReadOnlyMemory<byte> content, string ext)
    {
        var entries = ZipGuard.TryListEntries(content);
        if (entries is null)
        {
            var format = ext switch
            {
                "docx" => "DOCX",
                "xlsx" => "XLSX",
                "pptx" => "PPTX",
                _ => null,
            };
            if (format is not null)
            {
                throw new DocumentRejectedException(RejectionKind.Invalid, $"not a valid {format} (not a zip package)");
            }

            throw Unsupported("a damaged zip archive");
        }

        var hasContentTypes = entries.Contains("[Content_Types].xml");
        if (hasContentTypes)
        {
            if (entries.Any(e => e.StartsWith("word/", StringComparison.Ordinal)))
            {
                return MediaTypes.Docx;
            }

            if (entries.Any(e => e.StartsWith("xl/", StringComparison.Ordinal)))
            {
                return MediaTypes.Xlsx;
            }

            if (entries.Any(e => e.StartsWith("ppt/", StringComparison.Ordinal)))
            {
                return MediaTypes.Pptx;
            }
        }

        if (entries.Contains("mimetype") && entries.Any(e => e.StartsWith("META-INF/", StringComparison.Ordinal)))
        {
            throw Unsupported("an OpenDocument/EPUB package");
        }

        throw Unsupported("a zip archive that is not a Word, Excel or PowerPoint document");
    }

    private static bool LooksBinary(ReadOnlySpan<byte> bytes)
    {
        var sample = bytes[..Math.Min(bytes.Length, 64 * 1024)];
        if (sample.IndexOf((byte)0) >= 0)
        {
            return true;
        }

        var control = 0;
        foreach (var b in sample)
        {
            if (b < 0x20 && b is not (0x09 or 0x0A or 0x0D or 0x0C or 0x1B))
            {
                control++;
            }
        }

        return control > Math.Max(2, sample.Length / 20);
    }

    private static string DecodeHead(ReadOnlySpan<byte> bytes)
    {
        var head = bytes[..Math.Min(bytes.Length, 4096)];
        if (TextDecoding.HasUtf16Bom(head))
        {
            try
            {
                return TextDecoding.Decode(head);
            }
            catch (DocumentRejectedException)
            {
                return string.Empty;
            }
        }

        if (head.StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF]))
        {
            head = head[3..];
        }

        return Encoding.Latin1.GetString(head);
    }

    private static bool ParsesAsJson(ReadOnlySpan<byte> bytes)
    {
        try
        {
            if (bytes.StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF]))
            {
                bytes = bytes[3..];
            }

            var reader = new Utf8JsonReader(bytes, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
            if (!reader.Read() || reader.TokenType is not (JsonTokenType.StartObject or JsonTokenType.StartArray))
            {
                return false;
            }

            reader.Skip();
            return true;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    private static DocumentRejectedException Unsupported(string what) =>
        new(RejectionKind.Unsupported, what.StartsWith("binary", StringComparison.Ordinal) ? what : $"unsupported format: {what}");
}
