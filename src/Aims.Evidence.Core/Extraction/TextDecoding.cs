using System.Text;

namespace Aims.Evidence.Core.Extraction;

/// <summary>
/// Decodes text files: UTF-8 (with or without BOM), UTF-16 LE/BE with BOM, otherwise Windows-1252 when the
/// bytes plausibly are cp1252 text. Anything else is rejected as <see cref="RejectionKind.Invalid"/>.
/// </summary>
public static class TextDecoding
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    static TextDecoding()
    {
        Encoding.RegisterProvider(CodePagesEncodingProvider.Instance);
    }

    /// <summary>Windows-1252 (registered through the code-pages provider).</summary>
    public static Encoding Windows1252 { get; } = GetWindows1252();

    /// <summary>Decodes the bytes to a string (without BOM) or throws <see cref="DocumentRejectedException"/>.</summary>
    public static string Decode(ReadOnlySpan<byte> bytes)
    {
        if (bytes.StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF]))
        {
            return Encoding.UTF8.GetString(bytes[3..]);
        }

        if (bytes.StartsWith((ReadOnlySpan<byte>)[0xFF, 0xFE]))
        {
            return Encoding.Unicode.GetString(bytes[2..]);
        }

        if (bytes.StartsWith((ReadOnlySpan<byte>)[0xFE, 0xFF]))
        {
            return Encoding.BigEndianUnicode.GetString(bytes[2..]);
        }

        try
        {
            return StrictUtf8.GetString(bytes);
        }
        catch (DecoderFallbackException)
        {
            // fall through to the Windows-1252 heuristics
        }

        if (!LooksLikeWindows1252(bytes))
        {
            throw new DocumentRejectedException(RejectionKind.Invalid, "not valid UTF-8 and not recognisable as Windows-1252 text");
        }

        return Windows1252.GetString(bytes);
    }

    /// <summary>True when the bytes have a UTF-16 byte order mark.</summary>
    public static bool HasUtf16Bom(ReadOnlySpan<byte> bytes) =>
        bytes.StartsWith((ReadOnlySpan<byte>)[0xFF, 0xFE]) || bytes.StartsWith((ReadOnlySpan<byte>)[0xFE, 0xFF]);

    private static bool LooksLikeWindows1252(ReadOnlySpan<byte> bytes)
    {
        var high = 0;
        foreach (var b in bytes)
        {
            if (b < 0x20 && b is not (0x09 or 0x0A or 0x0D or 0x0C))
            {
                return false;
            }

            if (b is 0x81 or 0x8D or 0x8F or 0x90 or 0x9D)
            {
                return false;
            }

            if (b >= 0x80)
            {
                high++;
            }
        }

        // Western text in cp1252 has an accented letter here and there, not mostly high bytes.
        return bytes.Length == 0 || high <= Math.Max(4, bytes.Length * 0.2);
    }

    private static Encoding GetWindows1252()
    {
        Encoding.RegisterProvider(CodePagesEncodingProvider.Instance);
        return Encoding.GetEncoding(1252, EncoderFallback.ReplacementFallback, DecoderFallback.ReplacementFallback);
    }
}
