using System.Net;
using System.Net.Sockets;
using System.Numerics;
using System.Text.RegularExpressions;

namespace Aims.Evidence.Core.Llm;

/// <summary>Kinds of identifiers <see cref="PiiRedactor"/> replaces, each with its placeholder.</summary>
public enum PiiKind
{
    Email,
    Iban,
    Card,
    Ssn,
    Ip,
    Phone,
}

/// <summary>How many identifiers of each kind were replaced (counts only; the values are never kept).</summary>
public sealed class RedactionCounts
{
    private readonly int[] _counts = new int[Enum.GetValues<PiiKind>().Length];

    public int this[PiiKind kind] => Volatile.Read(ref _counts[(int)kind]);

    public int Total => _counts.Sum();

    internal void Add(PiiKind kind) => Interlocked.Increment(ref _counts[(int)kind]);

    internal void Add(RedactionCounts other)
    {
        for (var i = 0; i < _counts.Length; i++)
        {
            Interlocked.Add(ref _counts[i], other._counts[i]);
        }
    }

    /// <summary>"email=2, phone=1" for logs; empty when nothing was replaced.</summary>
    public override string ToString() =>
        string.Join(", ", Enum.GetValues<PiiKind>().Where(k => this[k] > 0).Select(k => $"{k.ToString().ToLowerInvariant()}={this[k]}"));
}

/// <summary>
/// Replaces personal identifiers in document text with typed placeholders before the text is sent to a chat model:
/// e-mail addresses <c>[EMAIL]</c>, IBANs <c>[IBAN]</c> (mod-97 checked), payment-card numbers <c>[CARD]</c> (13-19
/// digits, Luhn checked), US social security numbers <c>[SSN]</c> (ddd-dd-dddd), IPv4/IPv6 addresses <c>[IP]</c> and
/// phone numbers <c>[PHONE]</c> (international with +, national with a trunk 0, or North American (ddd) ddd-dddd).
/// Clause ids (6.1.2), control ids (A.6.2.4), dates, years, version numbers and ISO standard numbers are left alone.
/// Pattern-based: it lowers exposure, it does not promise anonymity (names and addresses are not detected).
/// </summary>
public sealed partial class PiiRedactor
{
    /// <summary>What replaces a text whose scan timed out: fail closed, nothing unscanned is sent.</summary>
    public const string Withheld = "[TEXT WITHHELD: could not be scanned for personal data]";

    private readonly HashSet<PiiKind> _kinds;

    /// <summary>A redactor for <paramref name="kinds"/> (all kinds when null).</summary>
    public PiiRedactor(IEnumerable<PiiKind>? kinds = null) => _kinds = [.. kinds ?? Enum.GetValues<PiiKind>()];

    /// <summary>All kinds.</summary>
    public static PiiRedactor Default { get; } = new();

    /// <summary>The text with identifiers replaced; <paramref name="counts"/> (optional) is incremented per replacement.</summary>
    public string Redact(string text, RedactionCounts? counts = null)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (text.Length == 0)
        {
            return text;
        }

        // Counted locally first, so a timeout half-way does not leave counts for text that is withheld anyway.
        var local = new RedactionCounts();
        try
        {
            // Order matters: longer, checksummed identifiers first, so their digits are not read as phone numbers.
            if (_kinds.Contains(PiiKind.Email))
            {
                text = Email().Replace(text, m => Hit(PiiKind.Email, local));
            }

            if (_kinds.Contains(PiiKind.Iban))
            {
                text = Iban().Replace(text, m => IsIban(m.Value) ? Hit(PiiKind.Iban, local) : m.Value);
            }

            if (_kinds.Contains(PiiKind.Card))
            {
                text = CardCandidate().Replace(text, m => IsCard(m.Value) ? Hit(PiiKind.Card, local) : m.Value);
            }

            if (_kinds.Contains(PiiKind.Ssn))
            {
                text = Ssn().Replace(text, m => Hit(PiiKind.Ssn, local));
            }

            if (_kinds.Contains(PiiKind.Ip))
            {
                text = Ipv6Candidate().Replace(text, m => IsIpv6(m.Value) ? Hit(PiiKind.Ip, local) : m.Value);
                var ipv4Input = text;
                text = Ipv4().Replace(text, m => IsVersionContext(ipv4Input, m.Index) ? m.Value : Hit(PiiKind.Ip, local));
            }

            if (_kinds.Contains(PiiKind.Phone))
            {
                text = PhoneCandidate().Replace(text, m => IsPhone(m.Value) ? Hit(PiiKind.Phone, local) : m.Value);
            }
        }
        catch (RegexMatchTimeoutException)
        {
            return Withheld;
        }

        counts?.Add(local);
        return text;
    }

    private static string Hit(PiiKind kind, RedactionCounts counts)
    {
        counts.Add(kind);
        return "[" + kind.ToString().ToUpperInvariant() + "]";
    }

    private static bool IsIban(string value)
    {
        var compact = value.Replace(" ", string.Empty, StringComparison.Ordinal);
        if (compact.Length is < 15 or > 34)
        {
            return false;
        }

        var rearranged = compact[4..] + compact[..4];
        var digits = string.Concat(rearranged.Select(c => char.IsAsciiLetter(c) ? (c - 'A' + 10).ToString(System.Globalization.CultureInfo.InvariantCulture) : c.ToString()));
        return BigInteger.Parse(digits, System.Globalization.CultureInfo.InvariantCulture) % 97 == 1;
    }

    private static bool IsCard(string value)
    {
        var digits = value.Where(char.IsAsciiDigit).Select(c => c - '0').ToArray();
        if (digits.Length is < 13 or > 19 || digits.All(d => d == digits[0]))
        {
            return false;
        }

        var sum = 0;
        for (var i = 0; i < digits.Length; i++)
        {
            var d = digits[digits.Length - 1 - i];
            if (i % 2 == 1)
            {
                d *= 2;
                if (d > 9)
                {
                    d -= 9;
                }
            }

            sum += d;
        }

        return sum % 10 == 0;
    }

    private static bool IsIpv6(string value)
    {
        var colons = value.Count(c => c == ':');
        return colons >= 2
            && (value.Contains("::", StringComparison.Ordinal) || colons == 7)
            && value.Any(char.IsAsciiHexDigit)
            && IPAddress.TryParse(value, out var address)
            && address.AddressFamily == AddressFamily.InterNetworkV6;
    }

    /// <summary>"version 1.2.3.4", "release 2.0.0.0", "build 10.0.0.1": a version, not an address.</summary>
    private static bool IsVersionContext(string text, int index)
    {
        var before = text[Math.Max(0, index - 16)..index].TrimEnd().ToLowerInvariant();
        var word = before[(before.LastIndexOfAny([' ', '\t', '\n', '(']) + 1)..];
        return word is "version" or "release" or "build" or "ver." or "v" or "v.";
    }

    private static bool IsPhone(string value)
    {
        var digits = value.Count(char.IsAsciiDigit);
        if (value.StartsWith('+'))
        {
            return digits is >= 8 and <= 15;
        }

        if (DateLike().IsMatch(value))
        {
            return false;
        }

        if (NorthAmerican().IsMatch(value))
        {
            return true;
        }

        // National numbers start with a trunk 0 (e.g. 020 7946 0958, 030 1234567, 06 12 34 56 78, (0)30-123456).
        var first = value.TrimStart('(').FirstOrDefault();
        return first == '0' && digits is >= 9 and <= 12 && !value.Contains('.', StringComparison.Ordinal);
    }

    [GeneratedRegex(@"(?<![\w.%+-])[A-Za-z0-9][A-Za-z0-9._%+-]{0,63}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.[A-Za-z]{2,24}\b", RegexOptions.CultureInvariant, 2000)]
    private static partial Regex Email();

    [GeneratedRegex(@"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?\b", RegexOptions.CultureInvariant, 2000)]
    private static partial Regex Iban();

    [GeneratedRegex(@"(?<![\w.+-])\d(?:[ -]?\d){12,18}(?![\w]|[.-]\d)", RegexOptions.CultureInvariant, 2000)]
    private static partial Regex CardCandidate();

    [GeneratedRegex(@"(?<![\w.-])(?!000|666|9\d\d)\d{3}-(?!00)\d{2}-(?!0000)\d{4}(?![\w]|[.-]\d)", RegexOptions.CultureInvariant, 2000)]
    private static partial Regex Ssn();

    [GeneratedRegex(@"(?<![\w:.])[0-9A-Fa-f:][0-9A-Fa-f:.]{1,44}(?<![.:])(?![\w:])", RegexOptions.CultureInvariant, 2000)]
    private static partial Regex Ipv6Candidate();

    [GeneratedRegex(@"(?<![\w.])(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?:\.(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}(?![\w]|\.\d)", RegexOptions.CultureInvariant, 2000)]
    private static partial Regex Ipv4();

    [GeneratedRegex(@"(?<![\w.+/-])(?:\+\d{1,3}[ .-]?)?(?:\(\d{1,5}\)[ .-]?)?\d{1,5}(?:[ .-]?\d{1,5}){1,5}(?![\w]|[.-]\d)|(?<![\w.+/-])\+\d{7,15}(?!\w)", RegexOptions.CultureInvariant, 2000)]
    private static partial Regex PhoneCandidate();

    [GeneratedRegex(@"^\d{1,4}([-./ ])\d{1,2}\1\d{1,4}$|^\d{4}\s*[-/]\s*\d{2,4}$", RegexOptions.CultureInvariant, 2000)]
    private static partial Regex DateLike();

    [GeneratedRegex(@"^(?:\(\d{3}\) ?|\d{3}[-. ])\d{3}[-. ]\d{4}$", RegexOptions.CultureInvariant, 2000)]
    private static partial Regex NorthAmerican();
}
