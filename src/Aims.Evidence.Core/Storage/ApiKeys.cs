using System.Security.Cryptography;
using System.Text;

namespace Aims.Evidence.Core.Storage;

/// <summary>API key format and hashing, shared by every key store and host: only the hash is ever stored.</summary>
public static class ApiKeys
{
    /// <summary>A new random key: "aims_" and 32 random bytes, base64url.</summary>
    public static string NewKey() =>
        "aims_" + System.Buffers.Text.Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32));

    /// <summary>The stored form of a key: SHA-256 of its UTF-8 bytes, lower-case hex.</summary>
    public static string Hash(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)));
    }

    /// <summary>Parses a role name (reader, reviewer, admin; case-insensitive, never a number).</summary>
    public static bool TryParseRole(string? text, out ApiRole role) =>
        Enum.TryParse(text, ignoreCase: true, out role) && Enum.IsDefined(role) && !int.TryParse(text, out _);
}
