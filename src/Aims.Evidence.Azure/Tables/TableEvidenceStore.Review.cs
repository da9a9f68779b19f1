using System.Globalization;
using System.Text.Json;
using Aims.Evidence.Core.Mapping;
using Aims.Evidence.Core.Mapping.Feedback;
using Aims.Evidence.Core.Storage;
using Azure;
using Azure.Data.Tables;

namespace Aims.Evidence.Azure.Tables;

/// <summary>
/// Reviewer decisions on pipeline mappings in Table Storage. A mapping lives twice: its evidence row in
/// <c>{prefix}Mappings</c> (what gap analysis reads) and its copy in the passage row (what passage reads return); a
/// review updates the evidence row, then the passage row guarded by its ETag, then appends an entry to
/// <c>{prefix}Audit</c> (PartitionKey <c>audit</c>, RowKey sorting by time). The three writes are not one
/// transaction (Table Storage transactions stay within one partition of one table): a repeated review converges.
/// </summary>
public sealed partial class TableEvidenceStore
{
    // Audit entries: PartitionKey "log", RowKey the entry's id (D10, so rows sort by id); the last id is kept in the
    // counter row (PartitionKey "seq") and taken under its ETag, so ids are unique and increasing across instances.
    private const string AuditPartition = "log";
    private const string AuditSequencePartition = "seq";
    private const string AuditSequenceRow = "audit";

    private static readonly JsonSerializerOptions AuditJson = new(JsonSerializerDefaults.Web)
    {
        Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
    };

    /// <summary>
    /// Sets the review state of a mapping the pipeline wrote (id <c>{passageId}-{n}</c>, passage id
    /// <c>{documentId}-{ordinal}</c>). Returns the mapping after the change, or null when it does not exist.
    /// </summary>
    public Task<MappingRecord?> ReviewMappingAsync(string mappingId, ReviewState state, string actor, string? comment, CancellationToken cancellationToken = default) =>
        ReviewAsync(mappingId, state, null, actor, comment, cancellationToken);

    public Task<MappingRecord?> AcceptWithPolarityAsync(string mappingId, MappingPolarity polarity, string actor, string? comment, CancellationToken cancellationToken = default) =>
        ReviewAsync(mappingId, ReviewState.Accepted, polarity, actor, comment, cancellationToken);

    private async Task<MappingRecord?> ReviewAsync(string mappingId, ReviewState state, MappingPolarity? polarity, string actor, string? comment, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(actor);
        if (!TrySplitMappingId(mappingId, out var passageId, out var documentId))
        {
            return null;
        }

        for (var attempt = 1; ; attempt++)
        {
            var row = await GetEntityOrNullAsync(_passages, TableKeys.Key(documentId), TableKeys.Key(passageId), cancellationToken).ConfigureAwait(false);
            if (row is null)
            {
                return null;
            }

            var mappings = ReadMappings(row);
            var index = mappings.FindIndex(m => string.Equals(m.Id, mappingId, StringComparison.Ordinal));
            if (index < 0)
            {
                return null;
            }

            var before = mappings[index];
            var after = before with { Review = state, Polarity = polarity ?? before.Polarity };
            mappings[index] = after;

            var evidence = new TableEntity(TableKeys.Key(after.ControlId), TableKeys.Key(documentId) + "|" + TableKeys.Key(after.Id))
            {
                ["Review"] = state.ToString().ToLowerInvariant(),
                ["Polarity"] = after.Polarity.ToString().ToLowerInvariant(),
            };
            await _mappings.UpdateEntityAsync(evidence, ETag.All, TableUpdateMode.Merge, cancellationToken).ConfigureAwait(false);

            TableKeys.SetText(row, "MappingsJson", JsonSerializer.Serialize(mappings, Json));
            try
            {
                await _passages.UpdateEntityAsync(row, row.ETag, TableUpdateMode.Replace, cancellationToken).ConfigureAwait(false);
            }
            catch (RequestFailedException ex) when (ex.Status == 412 && attempt < MaxCommitAttempts)
            {
                continue; // another review of the same passage meanwhile: read again
            }

            await AppendAuditAsync(actor, "mapping.review", mappingId, before, new { after.Review, after.Polarity, after.ControlId, after.PassageId, comment }, cancellationToken).ConfigureAwait(false);
            return after;
        }
    }

    /// <summary>A mapping by id (<c>{passageId}-{suffix}</c>), from its passage's copy; null when unknown.</summary>
    public async Task<MappingRecord?> GetMappingAsync(string id, CancellationToken cancellationToken = default)
    {
        if (!TrySplitMappingId(id, out var passageId, out var documentId))
        {
            return null;
        }

        var row = await GetEntityOrNullAsync(_passages, TableKeys.Key(documentId), TableKeys.Key(passageId), cancellationToken).ConfigureAwait(false);
        return row is null ? null : ReadMappings(row).FirstOrDefault(m => string.Equals(m.Id, id, StringComparison.Ordinal));
    }

    /// <summary>A passage by id (<c>{documentId}-{ordinal}</c>); null when unknown.</summary>
    public async Task<PassageRecord?> GetPassageAsync(string id, CancellationToken cancellationToken = default)
    {
        if (!TrySplitPassageId(id, out var documentId))
        {
            return null;
        }

        var row = await GetEntityOrNullAsync(_passages, TableKeys.Key(documentId), TableKeys.Key(id), cancellationToken).ConfigureAwait(false);
        return row is null ? null : ToPassage(row);
    }

    /// <summary>
    /// Adds a reviewer's mapping (method "manual", score 1, accepted) of a passage to a control: the evidence row, then
    /// the passage's copy guarded by its ETag, then the audit entry. Its id is <c>{passageId}-m{32 hex}</c>, so it can
    /// be reviewed like a pipeline mapping. Null when the passage does not exist.
    /// </summary>
    public async Task<MappingRecord?> AddManualMappingAsync(string passageId, string controlId, string rationale, string actor, MappingPolarity polarity, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(controlId);
        ArgumentNullException.ThrowIfNull(rationale);
        ArgumentException.ThrowIfNullOrWhiteSpace(actor);
        if (!TrySplitPassageId(passageId, out var documentId))
        {
            return null;
        }

        var mapping = MappingRecord.Manual(passageId + "-m" + Guid.CreateVersion7().ToString("N"), passageId, controlId, rationale, polarity);
        var documentKey = TableKeys.Key(documentId);
        var evidenceWritten = false;
        for (var attempt = 1; ; attempt++)
        {
            var row = await GetEntityOrNullAsync(_passages, documentKey, TableKeys.Key(passageId), cancellationToken).ConfigureAwait(false);
            if (row is null)
            {
                return null;
            }

            // The same manual mapping again (passage, entry, polarity, not rejected) is the one already there.
            if (ReadMappings(row).FirstOrDefault(m => m.Method == MappingMethods.Manual && m.ControlId == controlId && m.Polarity == polarity && m.Review != ReviewState.Rejected) is { } same)
            {
                return same;
            }

            if (!evidenceWritten)
            {
                await _mappings.UpsertEntityAsync(ToMappingEntity(documentId, documentKey, mapping), TableUpdateMode.Replace, cancellationToken).ConfigureAwait(false);
                evidenceWritten = true;
            }

            var mappings = ReadMappings(row);
            mappings.Add(mapping);
            TableKeys.SetText(row, "MappingsJson", JsonSerializer.Serialize(mappings, Json));
            try
            {
                await _passages.UpdateEntityAsync(row, row.ETag, TableUpdateMode.Replace, cancellationToken).ConfigureAwait(false);
            }
            catch (RequestFailedException ex) when (ex.Status == 412 && attempt < MaxCommitAttempts)
            {
                continue; // the passage changed meanwhile (a review): read again
            }

            await AppendAuditAsync(actor, "mapping.add", mapping.Id, null, mapping, cancellationToken).ConfigureAwait(false);
            return mapping;
        }
    }

    /// <summary>Sets (or clears) a document version's effective date, then audits it; null when the document does not exist.</summary>
    /// <summary>
    /// Every reviewer decision (accepted, rejected, manual) from the evidence rows, with its passage's text and its
    /// document's name read from their rows.
    /// </summary>
    public async Task<IReadOnlyList<ReviewDecision>> ListReviewDecisionsAsync(CancellationToken cancellationToken = default)
    {
        var filter = TableClient.CreateQueryFilter($"Review ne {"unreviewed"} or Method eq {MappingMethods.Manual}");
        var passages = new Dictionary<string, PassageRecord?>(StringComparer.Ordinal);
        var names = new Dictionary<string, string?>(StringComparer.Ordinal);
        var result = new List<ReviewDecision>();
        await foreach (var entity in _mappings.QueryAsync<TableEntity>(filter, cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            var mapping = ToMapping(entity);
            var documentId = entity.GetString("DocumentId")!;
            if (!passages.TryGetValue(mapping.PassageId, out var passage))
            {
                passages[mapping.PassageId] = passage = await GetPassageAsync(mapping.PassageId, cancellationToken).ConfigureAwait(false);
            }

            if (!names.TryGetValue(documentId, out var name))
            {
                names[documentId] = name = (await GetDocumentAsync(documentId, cancellationToken).ConfigureAwait(false))?.Name;
            }

            if (passage is not null && name is not null)
            {
                result.Add(new ReviewDecision(passage.Id, name, passage.Page, passage.Headings, passage.Text, mapping.ControlId, mapping.Review != ReviewState.Rejected) { Manual = mapping.Method == MappingMethods.Manual, Candidates = passage.Candidates, Polarity = mapping.Polarity });
            }
        }

        return result;
    }

    /// <summary>
    /// Per passage: drops its unreviewed pipeline mappings (evidence rows and the passage's copy) and adds the new
    /// suggestions (ids <c>{passageId}-r{32 hex}</c>), skipping entries already decided on the passage; the passage row
    /// is replaced under its ETag (a concurrent review makes it read again).
    /// </summary>
    public async Task<int> ReplaceSuggestionsAsync(IReadOnlyList<(string PassageId, IReadOnlyList<MappingSuggestion> Suggestions)> suggestions, string profileVersion, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(suggestions);
        var changed = 0;
        foreach (var (passageId, list) in suggestions)
        {
            if (!TrySplitPassageId(passageId, out var documentId))
            {
                continue;
            }

            var documentKey = TableKeys.Key(documentId);
            for (var attempt = 1; ; attempt++)
            {
                var row = await GetEntityOrNullAsync(_passages, documentKey, TableKeys.Key(passageId), cancellationToken).ConfigureAwait(false);
                if (row is null)
                {
                    break;
                }

                var mappings = ReadMappings(row);
                var open = mappings.Where(m => m.Review == ReviewState.Unreviewed && m.Method != MappingMethods.Manual).ToArray();
                var kept = mappings.Except(open).ToList();

                // A suggestion that stays keeps its id (a reviewer may be looking at it); a new one gets a new id.
                var added = list.Where(s => !kept.Any(k => k.ControlId == s.ControlId))
                    .Select(s => MappingRecord.From(open.FirstOrDefault(o => o.ControlId == s.ControlId)?.Id ?? passageId + "-r" + Guid.CreateVersion7().ToString("N"), passageId, s, profileVersion)).ToArray();
                var dropped = open.Where(o => !added.Any(a => a.Id == o.Id)).ToArray();
                TableKeys.SetText(row, "MappingsJson", JsonSerializer.Serialize(kept.Concat(added).ToList(), Json));
                try
                {
                    await _passages.UpdateEntityAsync(row, row.ETag, TableUpdateMode.Replace, cancellationToken).ConfigureAwait(false);
                }
                catch (RequestFailedException ex) when (ex.Status == 412 && attempt < MaxCommitAttempts)
                {
                    continue; // reviewed meanwhile: read again
                }

                foreach (var m in added)
                {
                    await _mappings.UpsertEntityAsync(ToMappingEntity(documentId, documentKey, m), TableUpdateMode.Replace, cancellationToken).ConfigureAwait(false);
                }

                foreach (var m in dropped)
                {
                    await _mappings.DeleteEntityAsync(TableKeys.Key(m.ControlId), documentKey + "|" + TableKeys.Key(m.Id), ETag.All, cancellationToken).ConfigureAwait(false);
                }

                changed++;
                break;
            }
        }

        return changed;
    }

    /// <summary>Applicability decisions: <c>{prefix}Applicability</c>, PartitionKey <c>entry</c>, RowKey the entry id.</summary>
    public async Task<IReadOnlyList<ApplicabilityDecision>> ListApplicabilityAsync(CancellationToken cancellationToken = default)
    {
        var result = new List<ApplicabilityDecision>();
        await foreach (var e in _applicability.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {"entry"}"), cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            result.Add(new ApplicabilityDecision(e.GetString("ControlId")!, e.GetBoolean("Applicable") ?? true, e.GetString("Justification") ?? string.Empty, e.GetString("Actor") ?? string.Empty, e.GetDateTimeOffset("At") ?? default));
        }

        return result.OrderBy(d => d.ControlId, StringComparer.Ordinal).ToArray();
    }

    public async Task<ApplicabilityDecision> SetApplicabilityAsync(string controlId, bool applicable, string justification, string actor, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(controlId);
        ArgumentNullException.ThrowIfNull(justification);
        var decision = new ApplicabilityDecision(controlId, applicable, justification, actor, DateTimeOffset.UtcNow);
        var before = await GetEntityOrNullAsync(_applicability, "entry", TableKeys.Key(controlId), cancellationToken).ConfigureAwait(false);
        await _applicability.UpsertEntityAsync(
            new TableEntity("entry", TableKeys.Key(controlId))
            {
                ["ControlId"] = controlId,
                ["Applicable"] = applicable,
                ["Justification"] = Truncate(justification),
                ["Actor"] = actor,
                ["At"] = decision.At,
            },
            TableUpdateMode.Replace,
            cancellationToken).ConfigureAwait(false);
        await AppendAuditAsync(actor, "control.applicability", controlId, before is null ? null : new { Applicable = before.GetBoolean("Applicable"), Justification = before.GetString("Justification") }, new { applicable, justification }, cancellationToken).ConfigureAwait(false);
        return decision;
    }

    public async Task<DocumentRecord?> SetEffectiveDateAsync(string documentId, DateOnly? effectiveDate, string actor, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(actor);
        if (string.IsNullOrEmpty(documentId))
        {
            return null;
        }

        // The whole row is replaced under its ETag (a merge cannot remove a property, which clearing the date needs);
        // a concurrent change (a new version superseding this one) makes it read again.
        for (var attempt = 1; ; attempt++)
        {
            var row = await GetEntityOrNullAsync(_documents, DocPartition, TableKeys.Key(documentId), cancellationToken).ConfigureAwait(false);
            if (row is null || !string.Equals(row.GetString("Entity"), "document", StringComparison.Ordinal))
            {
                return null;
            }

            var before = ToDocument(row);
            if (effectiveDate is { } date)
            {
                row["EffectiveDate"] = date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
            }
            else
            {
                row.Remove("EffectiveDate");
            }

            try
            {
                await _documents.UpdateEntityAsync(row, row.ETag, TableUpdateMode.Replace, cancellationToken).ConfigureAwait(false);
            }
            catch (RequestFailedException ex) when (ex.Status == 412 && attempt < MaxCommitAttempts)
            {
                continue;
            }

            await AppendAuditAsync(actor, "document.effective-date", documentId, new { effectiveDate = before.EffectiveDate }, new { effectiveDate }, cancellationToken).ConfigureAwait(false);
            return before with { EffectiveDate = effectiveDate };
        }
    }

    /// <summary>Audit entries, oldest first, with an id greater than <paramref name="afterId"/> (at most <paramref name="limit"/>, 1 to 1000).</summary>
    public async Task<IReadOnlyList<AuditEntry>> ListAuditAsync(long afterId = 0, int limit = 100, CancellationToken cancellationToken = default)
    {
        var take = Math.Clamp(limit, 1, 1000);
        var after = Math.Max(0, afterId).ToString("D10", CultureInfo.InvariantCulture);
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {AuditPartition} and RowKey gt {after}");
        var list = new List<AuditEntry>(take);
        await foreach (var e in _audit.QueryAsync<TableEntity>(filter, maxPerPage: take, cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            list.Add(new AuditEntry(
                long.Parse(e.RowKey, NumberStyles.None, CultureInfo.InvariantCulture),
                e.GetDateTimeOffset("At") ?? default,
                e.GetString("Actor") ?? string.Empty,
                e.GetString("Action") ?? string.Empty,
                e.GetString("Target") ?? string.Empty,
                e.GetString("Before"),
                e.GetString("After")));
            if (list.Count == take)
            {
                break;
            }
        }

        return list;
    }

    /// <summary>
    /// Appends an audit entry (before and after as JSON, camelCase enums) with the next id from the counter row, taken
    /// under its ETag: concurrent writers retry, so no two entries share an id. Returns the id.
    /// </summary>
    public async Task<long> AppendAuditAsync(string actor, string action, string target, object? before, object? after, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(actor);
        ArgumentException.ThrowIfNullOrWhiteSpace(action);
        ArgumentNullException.ThrowIfNull(target);
        long id;
        for (var attempt = 1; ; attempt++)
        {
            var counter = await GetEntityOrNullAsync(_audit, AuditSequencePartition, AuditSequenceRow, cancellationToken).ConfigureAwait(false);
            id = (counter?.GetInt64("Last") ?? 0) + 1;
            try
            {
                if (counter is null)
                {
                    await _audit.AddEntityAsync(new TableEntity(AuditSequencePartition, AuditSequenceRow) { ["Last"] = id }, cancellationToken).ConfigureAwait(false);
                }
                else
                {
                    await _audit.UpdateEntityAsync(new TableEntity(AuditSequencePartition, AuditSequenceRow) { ["Last"] = id }, counter.ETag, TableUpdateMode.Replace, cancellationToken).ConfigureAwait(false);
                }

                break;
            }
            catch (RequestFailedException ex) when (ex.Status is 409 or 412 && attempt < 50)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(Random.Shared.Next(5, 20 * Math.Min(attempt, 10))), cancellationToken).ConfigureAwait(false);
            }
        }

        await _audit.AddEntityAsync(
            new TableEntity(AuditPartition, id.ToString("D10", CultureInfo.InvariantCulture))
            {
                ["At"] = DateTimeOffset.UtcNow,
                ["Actor"] = actor,
                ["Action"] = action,
                ["Target"] = target,
                ["Before"] = before is null ? null : JsonSerializer.Serialize(before, AuditJson),
                ["After"] = after is null ? null : JsonSerializer.Serialize(after, AuditJson),
            },
            cancellationToken).ConfigureAwait(false);
        return id;
    }

    private static List<MappingRecord> ReadMappings(TableEntity passageRow) =>
        JsonSerializer.Deserialize<List<MappingRecord>>(TableKeys.GetText(passageRow, "MappingsJson"), Json) ?? [];

    /// <summary>Splits a passage id (<c>{documentId}-{ordinal}</c>) into its document id.</summary>
    public static bool TrySplitPassageId(string? passageId, out string documentId)
    {
        documentId = string.Empty;
        var p = passageId?.LastIndexOf('-') ?? -1;
        if (p <= 0)
        {
            return false;
        }

        documentId = passageId![..p];
        return true;
    }

    /// <summary>Splits a pipeline mapping id into its passage id and document id.</summary>
    public static bool TrySplitMappingId(string? mappingId, out string passageId, out string documentId)
    {
        passageId = documentId = string.Empty;
        var m = mappingId?.LastIndexOf('-') ?? -1;
        if (m <= 0)
        {
            return false;
        }

        passageId = mappingId![..m];
        var p = passageId.LastIndexOf('-');
        if (p <= 0)
        {
            return false;
        }

        documentId = passageId[..p];
        return true;
    }
}
