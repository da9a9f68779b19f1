using System.Security.Cryptography;
using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;

namespace Aims.Evidence.Azure.Blobs;

/// <summary>A downloaded blob: its bytes, metadata, SHA-256 (computed here, hex lower-case) and ETag.</summary>
public sealed record BlobDocument(
    string Container,
    string Name,
    ReadOnlyMemory<byte> Content,
    string Sha256,
    ETag ETag,
    string? ContentType,
    IReadOnlyDictionary<string, string> Metadata,
    DateTimeOffset LastModified)
{
    public long Size => Content.Length;
}

/// <summary>
/// Loads documents from Blob Storage. Clients it creates are pinned to a service version Azurite 3.37 accepts
/// (<see cref="Configuration.StorageClientOptions.Blobs"/>); pass your own client to use another one.
/// </summary>
public sealed class BlobDocumentSource
{
    private readonly BlobServiceClient _service;
    private readonly long _maxBytes;

    public BlobDocumentSource(BlobServiceClient service, long maxBytes = 100L * 1024 * 1024)
    {
        ArgumentNullException.ThrowIfNull(service);
        _service = service;
        _maxBytes = maxBytes;
    }

    public BlobClient GetBlobClient(string container, string name) =>
        _service.GetBlobContainerClient(container).GetBlobClient(name);

    public Task<BlobDocument> DownloadAsync(string container, string name, CancellationToken cancellationToken = default) =>
        DownloadAsync(GetBlobClient(container, name), _maxBytes, cancellationToken);

    /// <summary>Downloads one blob with its properties in a single request and hashes the bytes.</summary>
    public static async Task<BlobDocument> DownloadAsync(BlobClient blob, long maxBytes, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(blob);
        var properties = (await blob.GetPropertiesAsync(cancellationToken: cancellationToken).ConfigureAwait(false)).Value;
        if (properties.ContentLength > maxBytes)
        {
            throw new Core.Extraction.DocumentRejectedException(Core.Extraction.RejectionKind.Invalid,
                $"{blob.Name} is {properties.ContentLength} bytes; the limit is {maxBytes}.");
        }

        // Download exactly the version we looked at: if the blob changes meanwhile, the condition fails (412)
        // and the trigger fires again for the new version.
        var download = await blob.DownloadContentAsync(
            new BlobDownloadOptions { Conditions = new BlobRequestConditions { IfMatch = properties.ETag } },
            cancellationToken).ConfigureAwait(false);
        var details = download.Value.Details;
        var bytes = download.Value.Content.ToMemory();
        var hash = Convert.ToHexStringLower(SHA256.HashData(bytes.Span));
        return new BlobDocument(
            blob.BlobContainerName,
            blob.Name,
            bytes,
            hash,
            details.ETag,
            details.ContentType,
            new Dictionary<string, string>(details.Metadata ?? new Dictionary<string, string>(), StringComparer.OrdinalIgnoreCase),
            details.LastModified);
    }
}
