using System.IO.Compression;

namespace Aims.Evidence.Core.Extraction;

/// <summary>Checks an OOXML package's zip directory against the limits before any part is parsed.</summary>
public static class ZipGuard
{
    /// <summary>Throws <see cref="DocumentRejectedException"/> when the bytes are not a zip or look like a zip bomb.</summary>
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
        }
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
