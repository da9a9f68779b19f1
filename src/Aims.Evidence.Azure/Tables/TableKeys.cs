using System.Security.Cryptography;
using System.Text;
using Azure.Data.Tables;

namespace Aims.Evidence.Azure.Tables;

/// <summary>Key and property helpers for Azure Table Storage's limits.</summary>
public static class TableKeys
{
    /// <summary>Characters per string property chunk: 30,000 UTF-16 chars = 60,000 bytes, under the 64 KiB property limit.</summary>
    public const int ChunkChars = 30_000;

    /// <summary>At most this many chunks per logical property (the entity itself must stay under 1 MiB).</summary>
    public const int MaxChunks = 12;

    public const string TruncationMarker = " [truncated]";

    /// <summary>
    /// A PartitionKey/RowKey for an arbitrary string: kept as is when it only has safe characters, otherwise
    /// base64url-encoded (keys may not contain / \ # ? or control characters); very long values are hashed.
    /// </summary>
    public static string Key(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        if (value.Length is > 0 and <= 200 && value.All(IsSafe) && value[0] != '~' && value[0] != '=')
        {
            return value;
        }

        var bytes = Encoding.UTF8.GetBytes(value);
        if (bytes.Length > 300)
        {
            return "=h" + Convert.ToHexStringLower(SHA256.HashData(bytes));
        }

        return "=" + System.Buffers.Text.Base64Url.EncodeToString(bytes);
    }

    private static bool IsSafe(char c) => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or ':' or '@' or '+';

    /// <summary>Stores <paramref name="text"/> under <paramref name="name"/>, <c>name_1</c>, <c>name_2</c>, ...; truncates past <see cref="MaxChunks"/>.</summary>
    public static void SetText(TableEntity entity, string name, string? text)
    {
        ArgumentNullException.ThrowIfNull(entity);
        text ??= string.Empty;
        var max = ChunkChars * MaxChunks;
        if (text.Length > max)
        {
            text = SafeSlice(text, 0, max - TruncationMarker.Length) + TruncationMarker;
        }

        var index = 0;
        var position = 0;
        do
        {
            var length = Math.Min(ChunkChars, text.Length - position);
            var chunk = SafeSlice(text, position, length);
            entity[index == 0 ? name : $"{name}_{index}"] = chunk;
            position += chunk.Length;
            index++;
        }
        while (position < text.Length);

        entity[name + "_n"] = index;
    }

    public static string GetText(TableEntity entity, string name)
    {
        ArgumentNullException.ThrowIfNull(entity);
        var count = entity.GetInt32(name + "_n") ?? 1;
        if (count <= 1)
        {
            return entity.GetString(name) ?? string.Empty;
        }

        var sb = new StringBuilder();
        for (var i = 0; i < count; i++)
        {
            sb.Append(entity.GetString(i == 0 ? name : $"{name}_{i}"));
        }

        return sb.ToString();
    }

    /// <summary>A substring that never ends between the two halves of a surrogate pair.</summary>
    private static string SafeSlice(string text, int start, int length)
    {
        var end = start + length;
        if (end < text.Length && end > start && char.IsHighSurrogate(text[end - 1]))
        {
            end--;
        }

        return text[start..end];
    }

    /// <summary>Rough payload size of an entity in a batch (UTF-16 strings count double, JSON overhead added).</summary>
    public static long EstimateBytes(TableEntity entity)
    {
        ArgumentNullException.ThrowIfNull(entity);
        long size = 256;
        foreach (var (key, value) in entity)
        {
            size += (key.Length * 2) + 32 + value switch
            {
                string s => s.Length * 2L,
                byte[] b => b.Length * 2L,
                _ => 16,
            };
        }

        return size;
    }
}
