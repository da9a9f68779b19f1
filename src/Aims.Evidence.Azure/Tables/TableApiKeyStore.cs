using System.Security.Cryptography;
using System.Text;
using Aims.Evidence.Core.Storage;
using Azure.Data.Tables;

namespace Aims.Evidence.Azure.Tables;

/// <summary>
/// API keys with roles for the Functions app, in <c>{prefix}ApiKeys</c>: PartitionKey <c>key</c>, RowKey = the key's
/// SHA-256 (<see cref="ApiKeys.Hash"/>), so a lookup is one point read and the key itself is never stored. The first
/// admin comes from configuration as a hash only (<c>Aims:Azure:AdminKeySha256</c>): whoever holds the matching key
/// can create the other keys; the hash is not a secret.
/// </summary>
public sealed class TableApiKeyStore
{
    public const string BootstrapAdminId = "bootstrap-admin";
    private const string Partition = "key";

    private readonly TableClient _table;
    private readonly string? _bootstrapAdminSha256;
    private readonly TimeProvider _time;

    public TableApiKeyStore(TableServiceClient service, string tablePrefix = "aims", string? bootstrapAdminSha256 = null, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(service);
        ArgumentException.ThrowIfNullOrWhiteSpace(tablePrefix);
        _table = service.GetTableClient(tablePrefix + "ApiKeys");
        _bootstrapAdminSha256 = string.IsNullOrWhiteSpace(bootstrapAdminSha256) ? null : bootstrapAdminSha256.Trim().ToLowerInvariant();
        _time = time ?? TimeProvider.System;
    }

    public Task InitializeAsync(CancellationToken cancellationToken = default) => _table.CreateIfNotExistsAsync(cancellationToken);

    /// <summary>The key with this hash (lower-case hex SHA-256), or null.</summary>
    public async Task<ApiKeyRecord?> FindAsync(string keySha256, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(keySha256);
        if (_bootstrapAdminSha256 is not null
            && CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(_bootstrapAdminSha256), Encoding.ASCII.GetBytes(keySha256)))
        {
            return new ApiKeyRecord(BootstrapAdminId, ApiRole.Admin, DateTimeOffset.UnixEpoch);
        }

        if (keySha256.Length != 64 || !keySha256.All(char.IsAsciiHexDigitLower))
        {
            return null;
        }

        var row = await _table.GetEntityIfExistsAsync<TableEntity>(Partition, keySha256, cancellationToken: cancellationToken).ConfigureAwait(false);
        if (!row.HasValue || row.Value is not { } entity || !Enum.TryParse<ApiRole>(entity.GetString("Role"), ignoreCase: true, out var role))
        {
            return null;
        }

        return new ApiKeyRecord(entity.GetString("Id") ?? string.Empty, role, entity.GetDateTimeOffset("CreatedAt") ?? DateTimeOffset.UnixEpoch);
    }

    /// <summary>
    /// Deletes the row of the key with this id (a query on the <c>Id</c> column of the one partition; the row key is the
    /// hash): lookups are point reads on every request, so the key gets 401 from its next request on. Null when no key
    /// has this id; the bootstrap admin lives in configuration and is removed there.
    /// </summary>
    public async Task<ApiKeyRecord?> RevokeAsync(string id, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(id);
        await foreach (var entity in _table.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {Partition} and Id eq {id}"), cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            Enum.TryParse<ApiRole>(entity.GetString("Role"), ignoreCase: true, out var role);
            await _table.DeleteEntityAsync(entity.PartitionKey, entity.RowKey, entity.ETag, cancellationToken).ConfigureAwait(false);
            return new ApiKeyRecord(id, role, entity.GetDateTimeOffset("CreatedAt") ?? DateTimeOffset.UnixEpoch);
        }

        return null;
    }

    /// <summary>Creates a key with this role; returns its record and the key, which only the caller ever sees.</summary>
    public async Task<(ApiKeyRecord Record, string Key)> CreateAsync(ApiRole role, string actor, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(actor);
        var key = ApiKeys.NewKey();
        var record = new ApiKeyRecord(Guid.CreateVersion7().ToString("N")[..16], role, _time.GetUtcNow());
        await _table.AddEntityAsync(
            new TableEntity(Partition, ApiKeys.Hash(key))
            {
                ["Id"] = record.Id,
                ["Role"] = role.ToString().ToLowerInvariant(),
                ["CreatedAt"] = record.CreatedAt,
                ["CreatedBy"] = actor,
            },
            cancellationToken).ConfigureAwait(false);
        return (record, key);
    }
}
