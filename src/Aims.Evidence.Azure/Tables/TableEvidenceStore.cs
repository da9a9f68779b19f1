using System.Globalization;
using System.Text.Json;
using Aims.Evidence.Core.Mapping;
using Aims.Evidence.Core.Mapping.Feedback;
using Aims.Evidence.Core.Storage;
using Azure;
using Azure.Data.Tables;

namespace Aims.Evidence.Azure.Tables;

/// <summary>
/// <see cref="IEvidenceStore"/> over Azure Table Storage.
/// <list type="bullet">
/// <item><c>{prefix}Documents</c>: PartitionKey <c>doc</c>, RowKey = document id; in the same partition one
/// by-name row per name (RowKey <c>~name~{name}</c>) that points to the current version.</item>
/// <item><c>{prefix}Passages</c>: PartitionKey = document id, RowKey = passage id (the passage's mappings are
/// kept with it for <see cref="GetPassagesAsync"/>).</item>
/// <item><c>{prefix}Mappings</c>: PartitionKey = control id, so evidence for one control reads one partition.</item>
/// <item><c>{prefix}Runs</c>: PartitionKey <c>run</c>, RowKey sorts newest first.</item>
/// </list>
/// A write puts passages and mappings first (in transactional batches of at most 100 actions per partition)
/// and then commits the version in one transaction of the <c>doc</c> partition: new document row, previous
/// version marked superseded and the by-name row moved, both guarded by their ETags. Until that commit the
/// new rows are unreachable, so a version is either fully visible or not at all. Text over 30,000 characters
/// is split across properties (Table Storage allows 64 KiB per property).
/// </summary>
public sealed partial class TableEvidenceStore : IEvidenceStore, IApplicabilityStore
{
    private const string DocPartition = "doc";
    private const string NamePrefix = "~name~";
    private const string RunPartition = "run";
    private const int MaxBatchActions = 100;
    private const long MaxBatchBytes = 3L * 1024 * 1024;
    private const int MaxCommitAttempts = 5;

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private readonly TableClient _documents;
    private readonly TableClient _passages;
    private readonly TableClient _mappings;
    private readonly TableClient _runs;
    private readonly TableClient _audit;
    private readonly TableClient _applicability;
    private readonly TableClient _owners;
    private readonly TableClient _attempts;

    public TableEvidenceStore(TableServiceClient service, string tablePrefix = "aims")
    {
        ArgumentNullException.ThrowIfNull(service);
        ArgumentException.ThrowIfNullOrWhiteSpace(tablePrefix);
        _documents = service.GetTableClient(tablePrefix + "Documents");
        _passages = service.GetTableClient(tablePrefix + "Passages");
        _mappings = service.GetTableClient(tablePrefix + "Mappings");
        _runs = service.GetTableClient(tablePrefix + "Runs");
        _audit = service.GetTableClient(tablePrefix + "Audit");
        _applicability = service.GetTableClient(tablePrefix + "Applicability");
        _owners = service.GetTableClient(tablePrefix + "Owners");
        _attempts = service.GetTableClient(tablePrefix + "Attempts");
    }

    public async Task InitializeAsync(CancellationToken cancellationToken = default)
    {
        foreach (var table in new[] { _documents, _passages, _mappings, _runs, _audit, _applicability, _owners, _attempts })
        {
            await table.CreateIfNotExistsAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    public async Task<DocumentRecord?> GetCurrentByNameAsync(string name, CancellationToken cancellationToken = default)
    {
        var pointer = await GetNameRowAsync(name, cancellationToken).ConfigureAwait(false);
        return pointer is null ? null : await GetDocumentAsync(pointer.GetString("CurrentId")!, cancellationToken).ConfigureAwait(false);
    }

    public async Task<DocumentRecord?> FindCurrentBySha256Async(string sha256, CancellationToken cancellationToken = default)
    {
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {DocPartition} and Entity eq {"document"} and Sha256 eq {sha256} and IsCurrent eq {true}");
        await foreach (var entity in _documents.QueryAsync<TableEntity>(filter, cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            return ToDocument(entity);
        }

        return null;
    }

    public async Task<DocumentRecord?> GetDocumentAsync(string id, CancellationToken cancellationToken = default)
    {
        var entity = await GetEntityOrNullAsync(_documents, DocPartition, TableKeys.Key(id), cancellationToken).ConfigureAwait(false);
        return entity is null ? null : ToDocument(entity);
    }

    public async Task<DocumentRecord> WriteDocumentAsync(DocumentWrite write, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(write);
        var document = write.Document;
        var documentKey = TableKeys.Key(document.Id);

        // The same name with the same bytes already current: nothing is written, the stored version comes back.
        if (await GetCurrentByNameAsync(document.Name, cancellationToken).ConfigureAwait(false) is { } current && IsSameContent(current, document))
        {
            return current;
        }

        // 1. Passages (with their mappings) in the document's partition.
        var passageEntities = write.Passages.Select(p => ToPassageEntity(documentKey, p)).ToList();
        await SubmitBatchesAsync(_passages, passageEntities, cancellationToken).ConfigureAwait(false);

        // 2. Mappings, one partition per control.
        var mappingEntities = write.Passages
            .SelectMany(p => p.Mappings.Select(m => ToMappingEntity(document.Id, documentKey, m)))
            .ToList();
        foreach (var group in mappingEntities.GroupBy(e => e.PartitionKey, StringComparer.Ordinal))
        {
            await SubmitBatchesAsync(_mappings, group.ToList(), cancellationToken).ConfigureAwait(false);
        }

        // 3. Commit the version in the doc partition, guarded by ETags.
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await CommitAsync(write, documentKey, cancellationToken).ConfigureAwait(false);
            }
            catch (RequestFailedException ex) when (ex.Status is 409 or 412 && attempt < MaxCommitAttempts)
            {
                // Another writer moved the same name meanwhile: read again and take the next version number.
                await Task.Delay(TimeSpan.FromMilliseconds(50 * attempt), cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Another version id with the same bytes (rewriting the same id keeps its version number instead).</summary>
    private static bool IsSameContent(DocumentRecord current, DocumentRecord document) =>
        !string.Equals(current.Id, document.Id, StringComparison.Ordinal) && string.Equals(current.Sha256, document.Sha256, StringComparison.Ordinal);

    private async Task<DocumentRecord> CommitAsync(DocumentWrite write, string documentKey, CancellationToken cancellationToken)
    {
        var document = write.Document;
        var nameRow = await GetNameRowAsync(document.Name, cancellationToken).ConfigureAwait(false);
        var actions = new List<TableTransactionAction>();
        var version = 1;
        var previousId = nameRow?.GetString("CurrentId");
        if (nameRow is not null && previousId is not null)
        {
            var previous = await GetEntityOrNullAsync(_documents, DocPartition, TableKeys.Key(previousId), cancellationToken).ConfigureAwait(false);
            var previousVersion = previous?.GetInt32("Version") ?? nameRow.GetInt32("Version") ?? 0;
            if (previous is not null && IsSameContent(ToDocument(previous), document))
            {
                return ToDocument(previous); // written meanwhile by another writer
            }

            if (string.Equals(previousId, document.Id, StringComparison.Ordinal))
            {
                version = Math.Max(1, previousVersion);
            }
            else
            {
                version = previousVersion + 1;
                if (previous is not null)
                {
                    var superseded = new TableEntity(DocPartition, previous.RowKey) { ["IsCurrent"] = false };
                    actions.Add(new TableTransactionAction(TableTransactionActionType.UpdateMerge, superseded, previous.ETag));
                }
            }
        }

        var stored = document with
        {
            Version = version,
            IsCurrent = true,
            PassageCount = write.Passages.Count,
        };
        actions.Add(new TableTransactionAction(TableTransactionActionType.UpsertReplace, ToDocumentEntity(documentKey, stored)));

        var pointer = new TableEntity(DocPartition, NamePrefix + TableKeys.Key(document.Name))
        {
            ["Entity"] = "name",
            ["Name"] = document.Name,
            ["CurrentId"] = document.Id,
            ["Version"] = version,
        };
        actions.Add(nameRow is null
            ? new TableTransactionAction(TableTransactionActionType.Add, pointer)
            : new TableTransactionAction(TableTransactionActionType.UpdateReplace, pointer, nameRow.ETag));

        await _documents.SubmitTransactionAsync(actions, cancellationToken).ConfigureAwait(false);
        return stored;
    }

    public async Task<IReadOnlyList<DocumentRecord>> ListDocumentsAsync(bool includeSuperseded = false, CancellationToken cancellationToken = default)
    {
        var filter = includeSuperseded
            ? TableClient.CreateQueryFilter($"PartitionKey eq {DocPartition} and Entity eq {"document"}")
            : TableClient.CreateQueryFilter($"PartitionKey eq {DocPartition} and Entity eq {"document"} and IsCurrent eq {true}");
        var list = new List<DocumentRecord>();
        await foreach (var entity in _documents.QueryAsync<TableEntity>(filter, cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            list.Add(ToDocument(entity));
        }

        return list.OrderBy(d => d.Name, StringComparer.Ordinal).ThenByDescending(d => d.Version).ToList();
    }

    public async Task<IReadOnlyList<DocumentRecord>> GetVersionsAsync(string name, CancellationToken cancellationToken = default)
    {
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {DocPartition} and Entity eq {"document"} and Name eq {name}");
        var list = new List<DocumentRecord>();
        await foreach (var entity in _documents.QueryAsync<TableEntity>(filter, cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            list.Add(ToDocument(entity));
        }

        return list.OrderByDescending(d => d.Version).ToList();
    }

    public async Task<IReadOnlyList<PassageWithMappings>> GetPassagesAsync(string documentId, CancellationToken cancellationToken = default)
    {
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {TableKeys.Key(documentId)}");
        var list = new List<PassageWithMappings>();
        await foreach (var entity in _passages.QueryAsync<TableEntity>(filter, cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            var mappings = JsonSerializer.Deserialize<List<MappingRecord>>(TableKeys.GetText(entity, "MappingsJson"), Json) ?? [];
            list.Add(new PassageWithMappings(ToPassage(entity), mappings));
        }

        return list.OrderBy(p => p.Passage.Ordinal).ToList();
    }

    public async Task<IReadOnlyList<EvidenceLink>> GetEvidenceAsync(string? controlId = null, CancellationToken cancellationToken = default)
    {
        var filter = controlId is null ? null : TableClient.CreateQueryFilter($"PartitionKey eq {TableKeys.Key(controlId)}");
        var documents = new Dictionary<string, DocumentRecord?>(StringComparer.Ordinal);
        var passages = new Dictionary<(string, string), PassageRecord?>();
        var links = new List<EvidenceLink>();
        await foreach (var entity in _mappings.QueryAsync<TableEntity>(filter, cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            var mapping = ToMapping(entity);
            if (mapping.Review == ReviewState.Rejected)
            {
                continue;
            }

            var documentId = entity.GetString("DocumentId")!;
            if (!documents.TryGetValue(documentId, out var document))
            {
                documents[documentId] = document = await GetDocumentAsync(documentId, cancellationToken).ConfigureAwait(false);
            }

            if (document is null || !document.IsCurrent || document.Status != DocumentStatus.Processed)
            {
                continue;
            }

            var key = (documentId, mapping.PassageId);
            if (!passages.TryGetValue(key, out var passage))
            {
                var row = await GetEntityOrNullAsync(_passages, TableKeys.Key(documentId), TableKeys.Key(mapping.PassageId), cancellationToken).ConfigureAwait(false);
                passages[key] = passage = row is null ? null : ToPassage(row);
            }

            if (passage is not null)
            {
                links.Add(new EvidenceLink(document, passage, mapping));
            }
        }

        return links
            .OrderBy(l => l.Mapping.ControlId, StringComparer.Ordinal)
            .ThenByDescending(l => l.Mapping.Score)
            .ThenBy(l => l.Passage.Id, StringComparer.Ordinal)
            .ToList();
    }

    public async Task SaveRunAsync(RunRecord run, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(run);
        var rowKey = (DateTimeOffset.MaxValue.UtcTicks - run.StartedAt.UtcTicks).ToString("D19", CultureInfo.InvariantCulture) + "_" + TableKeys.Key(run.Id);
        var entity = new TableEntity(RunPartition, rowKey)
        {
            ["Id"] = run.Id,
            ["StartedAt"] = run.StartedAt,
            ["FinishedAt"] = run.FinishedAt,
            ["Processed"] = run.Processed,
            ["Failed"] = run.Failed,
            ["Skipped"] = run.Skipped,
            ["Unchanged"] = run.Unchanged,
        };
        await _runs.UpsertEntityAsync(entity, TableUpdateMode.Replace, cancellationToken).ConfigureAwait(false);
    }

    public async Task<IReadOnlyList<RunRecord>> ListRunsAsync(int limit = 20, CancellationToken cancellationToken = default)
    {
        var list = new List<RunRecord>();
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {RunPartition}");
        await foreach (var e in _runs.QueryAsync<TableEntity>(filter, maxPerPage: Math.Clamp(limit, 1, 1000), cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            list.Add(new RunRecord
            {
                Id = e.GetString("Id")!,
                StartedAt = e.GetDateTimeOffset("StartedAt") ?? default,
                FinishedAt = e.GetDateTimeOffset("FinishedAt"),
                Processed = e.GetInt32("Processed") ?? 0,
                Failed = e.GetInt32("Failed") ?? 0,
                Skipped = e.GetInt32("Skipped") ?? 0,
                Unchanged = e.GetInt32("Unchanged") ?? 0,
            });
            if (list.Count >= limit)
            {
                break;
            }
        }

        return list;
    }

    private Task<TableEntity?> GetNameRowAsync(string name, CancellationToken cancellationToken) =>
        GetEntityOrNullAsync(_documents, DocPartition, NamePrefix + TableKeys.Key(name), cancellationToken);

    private static async Task<TableEntity?> GetEntityOrNullAsync(TableClient table, string partitionKey, string rowKey, CancellationToken cancellationToken)
    {
        var response = await table.GetEntityIfExistsAsync<TableEntity>(partitionKey, rowKey, cancellationToken: cancellationToken).ConfigureAwait(false);
        return response.HasValue ? response.Value : null;
    }

    /// <summary>Upserts entities of one partition in transactions of at most 100 actions and about 3 MiB.</summary>
    private static async Task SubmitBatchesAsync(TableClient table, IReadOnlyList<TableEntity> entities, CancellationToken cancellationToken)
    {
        var batch = new List<TableTransactionAction>();
        long bytes = 0;
        foreach (var partition in entities.GroupBy(e => e.PartitionKey, StringComparer.Ordinal))
        {
            foreach (var entity in partition)
            {
                var size = TableKeys.EstimateBytes(entity);
                if (batch.Count == MaxBatchActions || (batch.Count > 0 && bytes + size > MaxBatchBytes))
                {
                    await table.SubmitTransactionAsync(batch, cancellationToken).ConfigureAwait(false);
                    batch = [];
                    bytes = 0;
                }

                batch.Add(new TableTransactionAction(TableTransactionActionType.UpsertReplace, entity));
                bytes += size;
            }

            if (batch.Count > 0)
            {
                await table.SubmitTransactionAsync(batch, cancellationToken).ConfigureAwait(false);
                batch = [];
                bytes = 0;
            }
        }
    }

    private static TableEntity ToDocumentEntity(string rowKey, DocumentRecord d) => new(DocPartition, rowKey)
    {
        ["Entity"] = "document",
        ["Id"] = d.Id,
        ["Name"] = d.Name,
        ["Sha256"] = d.Sha256,
        ["Size"] = d.Size,
        ["MediaType"] = d.MediaType,
        ["DocType"] = d.DocType,
        ["DocTypeConfidence"] = d.DocTypeConfidence,
        ["Status"] = d.Status.ToString().ToLowerInvariant(),
        ["Reason"] = Truncate(d.Reason),
        ["Version"] = d.Version,
        ["IsCurrent"] = d.IsCurrent,
        ["PageCount"] = d.PageCount,
        ["PassageCount"] = d.PassageCount,
        ["IngestedAt"] = d.IngestedAt,
        ["EffectiveDate"] = d.EffectiveDate?.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
        ["RunId"] = d.RunId,
        ["StatedDate"] = d.StatedDate?.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
        ["StatedDateSource"] = d.StatedDateSource,
    };

    private static DocumentRecord ToDocument(TableEntity e) => new()
    {
        Id = e.GetString("Id")!,
        Name = e.GetString("Name")!,
        Sha256 = e.GetString("Sha256") ?? string.Empty,
        Size = e.GetInt64("Size") ?? 0,
        MediaType = e.GetString("MediaType"),
        DocType = e.GetString("DocType"),
        DocTypeConfidence = e.GetDouble("DocTypeConfidence") ?? 0,
        Status = Enum.TryParse<DocumentStatus>(e.GetString("Status"), true, out var status) ? status : DocumentStatus.Failed,
        Reason = e.GetString("Reason"),
        Version = e.GetInt32("Version") ?? 1,
        IsCurrent = e.GetBoolean("IsCurrent") ?? false,
        PageCount = e.GetInt32("PageCount") ?? 0,
        PassageCount = e.GetInt32("PassageCount") ?? 0,
        IngestedAt = e.GetDateTimeOffset("IngestedAt") ?? default,
        EffectiveDate = DateOnly.TryParseExact(e.GetString("EffectiveDate"), "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date) ? date : null,
        RunId = e.GetString("RunId"),
        StatedDate = DateOnly.TryParseExact(e.GetString("StatedDate"), "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var stated) ? stated : null,
        StatedDateSource = e.GetString("StatedDateSource"),
    };

    private static TableEntity ToPassageEntity(string partitionKey, PassageWithMappings item)
    {
        var p = item.Passage;
        var entity = new TableEntity(partitionKey, TableKeys.Key(p.Id))
        {
            ["Id"] = p.Id,
            ["DocumentId"] = p.DocumentId,
            ["Ordinal"] = p.Ordinal,
            ["Page"] = p.Page,
            ["HeadingsJson"] = Truncate(JsonSerializer.Serialize(p.Headings, Json)),
            ["Start"] = p.Start,
            ["Length"] = p.Length,
            ["Kind"] = p.Kind,
            ["RowStart"] = p.RowStart,
            ["RowEnd"] = p.RowEnd,
            ["CandidatesJson"] = Truncate(p.Candidates?.Serialize()),
        };
        TableKeys.SetText(entity, "Text", p.Text);
        TableKeys.SetText(entity, "MappingsJson", JsonSerializer.Serialize(item.Mappings, Json));
        return entity;
    }

    private static PassageRecord ToPassage(TableEntity e) => new()
    {
        Id = e.GetString("Id")!,
        DocumentId = e.GetString("DocumentId")!,
        Ordinal = e.GetInt32("Ordinal") ?? 0,
        Page = e.GetInt32("Page") ?? 0,
        Headings = JsonSerializer.Deserialize<List<string>>(e.GetString("HeadingsJson") ?? "[]", Json) ?? [],
        Text = TableKeys.GetText(e, "Text"),
        Start = e.GetInt32("Start") ?? 0,
        Length = e.GetInt32("Length") ?? 0,
        Kind = e.GetString("Kind") ?? "paragraph",
        RowStart = e.GetInt32("RowStart"),
        RowEnd = e.GetInt32("RowEnd"),
        Candidates = PassageCandidates.Parse(e.GetString("CandidatesJson")),
    };

    private static TableEntity ToMappingEntity(string documentId, string documentKey, MappingRecord m) =>
        new(TableKeys.Key(m.ControlId), documentKey + "|" + TableKeys.Key(m.Id))
        {
            ["Id"] = m.Id,
            ["DocumentId"] = documentId,
            ["PassageId"] = m.PassageId,
            ["ControlId"] = m.ControlId,
            ["Score"] = m.Score,
            ["Method"] = m.Method,
            ["Rationale"] = Truncate(m.Rationale),
            ["Model"] = m.Model,
            ["PromptVersion"] = m.PromptVersion,
            ["ProfileVersion"] = m.ProfileVersion,
            ["Review"] = m.Review.ToString().ToLowerInvariant(),
            ["Polarity"] = m.Polarity.ToString().ToLowerInvariant(),
        };

    private static MappingRecord ToMapping(TableEntity e) => new()
    {
        Id = e.GetString("Id")!,
        PassageId = e.GetString("PassageId")!,
        ControlId = e.GetString("ControlId")!,
        Score = e.GetDouble("Score") ?? 0,
        Method = e.GetString("Method") ?? string.Empty,
        Rationale = e.GetString("Rationale") ?? string.Empty,
        Model = e.GetString("Model"),
        PromptVersion = e.GetString("PromptVersion"),
        ProfileVersion = e.GetString("ProfileVersion"),
        Review = Enum.TryParse<ReviewState>(e.GetString("Review"), true, out var review) ? review : ReviewState.Unreviewed,
        Polarity = Enum.TryParse<MappingPolarity>(e.GetString("Polarity"), true, out var polarity) ? polarity : MappingPolarity.Supports,
    };

    /// <summary>Single-property text capped under the 64 KiB property limit, never splitting a surrogate pair.</summary>
    private static string? Truncate(string? text)
    {
        if (text is null || text.Length <= TableKeys.ChunkChars)
        {
            return text;
        }

        var end = TableKeys.ChunkChars - TableKeys.TruncationMarker.Length;
        if (char.IsHighSurrogate(text[end - 1]))
        {
            end--;
        }

        return text[..end] + TableKeys.TruncationMarker;
    }
}
