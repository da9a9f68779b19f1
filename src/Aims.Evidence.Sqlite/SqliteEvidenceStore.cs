using System.Globalization;
using System.Text;
using System.Text.Json;
using Aims.Evidence.Core.Mapping;
using Aims.Evidence.Core.Mapping.Feedback;
using Aims.Evidence.Core.Storage;
using Microsoft.Data.Sqlite;

namespace Aims.Evidence.Sqlite;

/// <summary>
/// The embedded store: one SQLite file in WAL mode, versioned migrations, one writer at a time within the process
/// (SQLite's busy timeout covers other processes), FTS5 for lexical passage search.
/// </summary>
public sealed partial class SqliteEvidenceStore : IEvidenceStore, IPassageIndex, IReviewStore, IApplicabilityStore, IStoreVersion, IDisposable
{
    private const string DocumentColumns = "d.id, d.name, d.sha256, d.size, d.media_type, d.doc_type, d.doc_type_confidence, d.status, d.reason, d.version, d.is_current, d.page_count, d.passage_count, d.ingested_at, d.effective_date, d.run_id, d.stated_date, d.stated_date_source";
    private const string PassageColumns = "p.id, p.document_id, p.ordinal, p.page, p.headings, p.text, p.start, p.length, p.kind, p.row_start, p.row_end";

    /// <summary>Column counts of <see cref="DocumentColumns"/>, <see cref="PassageColumns"/> and <see cref="MappingColumns"/>: where the next group starts in a joined row.</summary>
    private const int DocumentColumnCount = 18;
    private const int PassageColumnCount = 11;
    private const int MappingColumnCount = 11;
    private const string MappingColumns = "m.id, m.passage_id, m.control_id, m.score, m.method, m.rationale, m.model, m.prompt_version, m.profile_version, m.review, m.polarity";

    private readonly string _connectionString;
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private bool _initialized;

    public SqliteEvidenceStore(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        Path = System.IO.Path.GetFullPath(path);
        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = Path,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Cache = SqliteCacheMode.Private,
            Pooling = true,
            DefaultTimeout = 30,
        }.ToString();
    }

    public string Path { get; }

    public static int SchemaVersion => SqliteSchema.Migrations.Count;

    public async Task InitializeAsync(CancellationToken cancellationToken = default)
    {
        if (_initialized)
        {
            return;
        }

        var dir = System.IO.Path.GetDirectoryName(Path);
        if (!string.IsNullOrEmpty(dir))
        {
            Directory.CreateDirectory(dir);
        }

        await _writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
            await ExecuteAsync(connection, "PRAGMA journal_mode = WAL", cancellationToken).ConfigureAwait(false);
            var version = Convert.ToInt32(await ScalarAsync(connection, "PRAGMA user_version", cancellationToken).ConfigureAwait(false), CultureInfo.InvariantCulture);
            if (version > SqliteSchema.Migrations.Count)
            {
                throw new InvalidOperationException($"The database {Path} has schema version {version}, newer than this build understands ({SqliteSchema.Migrations.Count}). Upgrade aims.");
            }

            for (var v = version; v < SqliteSchema.Migrations.Count; v++)
            {
                await using var tx = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
                foreach (var sql in SqliteSchema.Migrations[v])
                {
                    await ExecuteAsync(connection, sql, cancellationToken, tx).ConfigureAwait(false);
                }

                await ExecuteAsync(connection, $"PRAGMA user_version = {v + 1}", cancellationToken, tx).ConfigureAwait(false);
                await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
            }

            _initialized = true;
        }
        finally
        {
            _writeLock.Release();
        }
    }

    public async Task<DocumentRecord?> GetCurrentByNameAsync(string name, CancellationToken cancellationToken = default)
    {
        var docs = await QueryDocumentsAsync($"SELECT {DocumentColumns} FROM documents d WHERE d.name = $p0 AND d.is_current = 1", [name], cancellationToken).ConfigureAwait(false);
        return docs.Count > 0 ? docs[0] : null;
    }

    public async Task<DocumentRecord?> FindCurrentBySha256Async(string sha256, CancellationToken cancellationToken = default)
    {
        var docs = await QueryDocumentsAsync($"SELECT {DocumentColumns} FROM documents d WHERE d.sha256 = $p0 AND d.is_current = 1 ORDER BY d.status = 'processed' DESC LIMIT 1", [sha256], cancellationToken).ConfigureAwait(false);
        return docs.Count > 0 ? docs[0] : null;
    }

    public async Task<DocumentRecord?> GetDocumentAsync(string id, CancellationToken cancellationToken = default)
    {
        var docs = await QueryDocumentsAsync($"SELECT {DocumentColumns} FROM documents d WHERE d.id = $p0", [id], cancellationToken).ConfigureAwait(false);
        return docs.Count > 0 ? docs[0] : null;
    }

    public Task<IReadOnlyList<DocumentRecord>> ListDocumentsAsync(bool includeSuperseded = false, CancellationToken cancellationToken = default) =>
        QueryDocumentsAsync($"SELECT {DocumentColumns} FROM documents d {(includeSuperseded ? string.Empty : "WHERE d.is_current = 1")} ORDER BY d.name, d.version DESC", [], cancellationToken);

    public Task<IReadOnlyList<DocumentRecord>> GetVersionsAsync(string name, CancellationToken cancellationToken = default) =>
        QueryDocumentsAsync($"SELECT {DocumentColumns} FROM documents d WHERE d.name = $p0 ORDER BY d.version DESC", [name], cancellationToken);

    public async Task<DocumentRecord> WriteDocumentAsync(DocumentWrite write, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(write);
        await InitializeAsync(cancellationToken).ConfigureAwait(false);
        await _writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
            await using var tx = (SqliteTransaction)await connection.BeginTransactionAsync(System.Data.IsolationLevel.Serializable, cancellationToken).ConfigureAwait(false);

            // The same bytes under the same name are already the current version (e.g. the same file dropped twice at
            // once, or by another process sharing the file): return that version instead of writing a duplicate.
            await using (var same = Command(connection, $"SELECT {DocumentColumns} FROM documents d WHERE d.name = $p0 AND d.sha256 = $p1 AND d.is_current = 1 LIMIT 1", write.Document.Name, write.Document.Sha256))
            {
                same.Transaction = tx;
                await using var reader = await same.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                if (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    return ReadDocument(reader, 0);
                }
            }

            // Identical bytes already processed under another name: a sequential ingestion reports that twin as
            // unchanged and stores nothing (IngestionPipeline). Two names with the same bytes ingested at once both
            // pass that check, so it is repeated here, inside the write transaction: the first processed write wins.
            if (write.Document.Status == DocumentStatus.Processed)
            {
                await using var twin = Command(connection, $"SELECT {DocumentColumns} FROM documents d WHERE d.sha256 = $p0 AND d.is_current = 1 AND d.status = 'processed' ORDER BY d.ingested_at LIMIT 1", write.Document.Sha256);
                twin.Transaction = tx;
                await using var reader = await twin.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                if (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    return ReadDocument(reader, 0);
                }
            }

            var previous = await ScalarAsync(connection, "SELECT COALESCE(MAX(version), 0) FROM documents WHERE name = $p0", cancellationToken, tx, write.Document.Name).ConfigureAwait(false);
            var version = Convert.ToInt32(previous, CultureInfo.InvariantCulture) + 1;
            await ExecuteAsync(connection, "UPDATE documents SET is_current = 0 WHERE name = $p0 AND is_current = 1", cancellationToken, tx, write.Document.Name).ConfigureAwait(false);

            var doc = write.Document with { Version = version, IsCurrent = true, PassageCount = write.Passages.Count };
            await ExecuteAsync(
                connection,
                "INSERT INTO documents (id, name, sha256, size, media_type, doc_type, doc_type_confidence, status, reason, version, is_current, page_count, passage_count, ingested_at, effective_date, run_id, stated_date, stated_date_source) " +
                "VALUES ($p0, $p1, $p2, $p3, $p4, $p5, $p6, $p7, $p8, $p9, 1, $p10, $p11, $p12, $p13, $p14, $p15, $p16)",
                cancellationToken,
                tx,
                doc.Id, doc.Name, doc.Sha256, doc.Size, doc.MediaType, doc.DocType, doc.DocTypeConfidence, StatusText(doc.Status), doc.Reason, doc.Version,
                doc.PageCount, doc.PassageCount, doc.IngestedAt.ToString("O", CultureInfo.InvariantCulture), doc.EffectiveDate?.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), doc.RunId,
                doc.StatedDate?.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), doc.StatedDateSource).ConfigureAwait(false);

            await using (var insertPassage = connection.CreateCommand())
            await using (var insertFts = connection.CreateCommand())
            await using (var insertMapping = connection.CreateCommand())
            {
                insertPassage.Transaction = tx;
                insertPassage.CommandText = "INSERT INTO passages (id, document_id, ordinal, page, headings, text, start, length, kind, row_start, row_end, candidates) VALUES ($p0, $p1, $p2, $p3, $p4, $p5, $p6, $p7, $p8, $p9, $p10, $p11) RETURNING seq";
                var pp = AddParameters(insertPassage, 12);
                insertFts.Transaction = tx;
                insertFts.CommandText = "INSERT INTO passages_fts (rowid, text, headings) VALUES ($p0, $p1, $p2)";
                var fp = AddParameters(insertFts, 3);
                insertMapping.Transaction = tx;
                insertMapping.CommandText = "INSERT INTO mappings (id, passage_id, control_id, score, method, rationale, model, prompt_version, profile_version, review, polarity) VALUES ($p0, $p1, $p2, $p3, $p4, $p5, $p6, $p7, $p8, $p9, $p10)";
                var mp = AddParameters(insertMapping, 11);

                foreach (var (passage, mappings) in write.Passages)
                {
                    var headings = JsonSerializer.Serialize(passage.Headings);
                    Set(pp, passage.Id, doc.Id, passage.Ordinal, passage.Page, headings, passage.Text, passage.Start, passage.Length, passage.Kind, passage.RowStart, passage.RowEnd, passage.Candidates?.Serialize());
                    var seq = (long)(await insertPassage.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
                    Set(fp, seq, passage.Text, string.Join(" / ", passage.Headings));
                    await insertFts.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                    foreach (var m in mappings)
                    {
                        Set(mp, m.Id, passage.Id, m.ControlId, m.Score, m.Method, m.Rationale, m.Model, m.PromptVersion, m.ProfileVersion, ReviewText(m.Review), PolarityText(m.Polarity));
                        await insertMapping.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                    }
                }
            }

            await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
            return doc;
        }
        finally
        {
            _writeLock.Release();
        }
    }

    public async Task<IReadOnlyList<PassageWithMappings>> GetPassagesAsync(string documentId, CancellationToken cancellationToken = default)
    {
        await InitializeAsync(cancellationToken).ConfigureAwait(false);
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        var passages = new List<PassageRecord>();
        await using (var cmd = Command(connection, $"SELECT {PassageColumns}, p.candidates FROM passages p WHERE p.document_id = $p0 ORDER BY p.ordinal", documentId))
        await using (var reader = await cmd.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
        {
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                passages.Add(ReadPassage(reader, 0) with { Candidates = reader.IsDBNull(PassageColumnCount) ? null : PassageCandidates.Parse(reader.GetString(PassageColumnCount)) });
            }
        }

        var mappings = new Dictionary<string, List<MappingRecord>>(StringComparer.Ordinal);
        await using (var cmd = Command(connection, $"SELECT {MappingColumns} FROM mappings m JOIN passages p ON p.id = m.passage_id WHERE p.document_id = $p0 ORDER BY m.score DESC", documentId))
        await using (var reader = await cmd.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
        {
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                var m = ReadMapping(reader, 0);
                if (!mappings.TryGetValue(m.PassageId, out var list))
                {
                    mappings[m.PassageId] = list = [];
                }

                list.Add(m);
            }
        }

        return passages.Select(p => new PassageWithMappings(p, mappings.TryGetValue(p.Id, out var l) ? l : [])).ToArray();
    }

    public async Task<IReadOnlyList<EvidenceLink>> GetEvidenceAsync(string? controlId = null, CancellationToken cancellationToken = default)
    {
        await InitializeAsync(cancellationToken).ConfigureAwait(false);
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        return controlId is null
            ? await ReadLinksAsync(connection, null, string.Empty, [], cancellationToken).ConfigureAwait(false)
            : await ReadLinksAsync(connection, null, " AND m.control_id = $p0", [controlId], cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Non-rejected links of current, processed documents, narrowed by <paramref name="where"/> (an "AND ..." clause).</summary>
    private static async Task<List<EvidenceLink>> ReadLinksAsync(SqliteConnection connection, SqliteTransaction? tx, string where, object[] parameters, CancellationToken cancellationToken)
    {
        // A finding's passage keeps its stored candidates: they hold the polarity model's probability that decided it.
        var sql = $"SELECT {DocumentColumns}, {PassageColumns}, {MappingColumns}, CASE WHEN m.polarity = 'finding' THEN p.candidates END FROM mappings m " +
                  "JOIN passages p ON p.id = m.passage_id JOIN documents d ON d.id = p.document_id " +
                  "WHERE d.is_current = 1 AND d.status = 'processed' AND m.review <> 'rejected'" + where +
                  " ORDER BY m.control_id, m.score DESC";
        await using var cmd = Command(connection, sql, parameters);
        cmd.Transaction = tx;
        await using var reader = await cmd.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var links = new List<EvidenceLink>();
        var docs = new Dictionary<string, DocumentRecord>(StringComparer.Ordinal);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            var docId = reader.GetString(0);
            if (!docs.TryGetValue(docId, out var doc))
            {
                docs[docId] = doc = ReadDocument(reader, 0);
            }

            var passage = ReadPassage(reader, DocumentColumnCount);
            var candidates = DocumentColumnCount + PassageColumnCount + MappingColumnCount;
            if (!reader.IsDBNull(candidates))
            {
                passage = passage with { Candidates = PassageCandidates.Parse(reader.GetString(candidates)) };
            }

            links.Add(new EvidenceLink(doc, passage, ReadMapping(reader, DocumentColumnCount + PassageColumnCount)));
        }

        return links;
    }

    /// <summary>
    /// At most this many matching passages (of current, processed documents passing the filters, most recently stored
    /// first) are ranked by bm25 per query. A query matching more (a single common word at 100k passages) is ranked
    /// within the newest this-many; below it the ranking is over every match.
    /// </summary>
    public int SearchCandidates { get; init; } = 2000;

    public async Task<IReadOnlyList<SearchHit>> SearchAsync(SearchQuery query, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        var (all, any) = FtsQueries(query.Text);
        if (all.Length == 0)
        {
            return [];
        }

        await InitializeAsync(cancellationToken).ConfigureAwait(false);
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        var limit = Math.Clamp(query.Limit, 1, 200);

        // Passages with every term first; only when they are too few, passages with any term fill up the list.
        var hits = await RankAsync(connection, all, query, limit, cancellationToken).ConfigureAwait(false);
        if (hits.Count < limit && !string.Equals(all, any, StringComparison.Ordinal))
        {
            var seen = hits.Select(h => h.Passage.Id).ToHashSet(StringComparer.Ordinal);
            var more = await RankAsync(connection, any, query, limit + hits.Count, cancellationToken).ConfigureAwait(false);
            hits.AddRange(more.Where(h => seen.Add(h.Passage.Id)).Take(limit - hits.Count));
        }

        // The mappings of all hits in one query (not one per hit), grouped by passage, score-descending.
        var mappings = new Dictionary<string, List<MappingRecord>>(StringComparer.Ordinal);
        if (hits.Count > 0)
        {
            var ids = hits.Select(h => h.Passage.Id).Distinct(StringComparer.Ordinal).ToArray();
            var inList = string.Join(", ", ids.Select((_, i) => "$p" + i.ToString(CultureInfo.InvariantCulture)));
            await using var cmd = Command(connection, $"SELECT {MappingColumns} FROM mappings m WHERE m.passage_id IN ({inList}) AND m.review <> 'rejected' ORDER BY m.passage_id, m.score DESC", ids);
            await using var reader = await cmd.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                var m = ReadMapping(reader, 0);
                if (!mappings.TryGetValue(m.PassageId, out var list))
                {
                    mappings[m.PassageId] = list = [];
                }

                list.Add(m);
            }
        }

        var result = new List<SearchHit>(hits.Count);
        foreach (var (doc, passage, score) in hits)
        {
            result.Add(new SearchHit(doc, passage, Math.Round(score, 4), mappings.TryGetValue(passage.Id, out var list) ? list : []));
        }

        return result;
    }

    /// <summary>
    /// Top <paramref name="limit"/> by bm25 among the newest <see cref="SearchCandidates"/> matches that pass the
    /// filters: FTS5 walks the match in rowid-descending order (no sort), the filters are checked per row, and only
    /// the candidates are scored; the passage and document rows are then read for the winners only.
    /// </summary>
    private async Task<List<(DocumentRecord Doc, PassageRecord Passage, double Score)>> RankAsync(SqliteConnection connection, string match, SearchQuery query, int limit, CancellationToken cancellationToken)
    {
        var sql = new StringBuilder("SELECT f.rowid AS seq, bm25(passages_fts) AS rank FROM passages_fts f ")
            .Append("JOIN passages p ON p.seq = f.rowid JOIN documents d ON d.id = p.document_id ")
            .Append("WHERE passages_fts MATCH $p0 AND d.is_current = 1 AND d.status = 'processed'");
        var args = new List<object?> { match };
        if (!string.IsNullOrWhiteSpace(query.DocType))
        {
            args.Add(query.DocType);
            sql.Append(" AND d.doc_type = $p").Append(args.Count - 1);
        }

        if (!string.IsNullOrWhiteSpace(query.ControlId))
        {
            args.Add(query.ControlId);
            sql.Append(" AND EXISTS (SELECT 1 FROM mappings m WHERE m.passage_id = p.id AND m.review <> 'rejected' AND m.control_id = $p").Append(args.Count - 1).Append(')');
        }

        args.Add(Math.Max(SearchCandidates, limit));
        sql.Append(" ORDER BY f.rowid DESC LIMIT $p").Append(args.Count - 1);
        args.Add(limit);
        var outer = $"SELECT {DocumentColumns}, {PassageColumns}, c.rank FROM ({sql}) c JOIN passages p ON p.seq = c.seq JOIN documents d ON d.id = p.document_id " +
                    $"ORDER BY c.rank, c.seq DESC LIMIT $p{args.Count - 1}";
        return await ReadHitsAsync(connection, outer, [.. args], cancellationToken).ConfigureAwait(false);
    }

    private static async Task<List<(DocumentRecord Doc, PassageRecord Passage, double Score)>> ReadHitsAsync(SqliteConnection connection, string sql, object?[] args, CancellationToken cancellationToken)
    {
        var hits = new List<(DocumentRecord Doc, PassageRecord Passage, double Score)>();
        await using var cmd = Command(connection, sql, args);
        await using var reader = await cmd.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            hits.Add((ReadDocument(reader, 0), ReadPassage(reader, DocumentColumnCount), -reader.GetDouble(DocumentColumnCount + PassageColumnCount)));
        }

        return hits;
    }

    /// <summary>Grows on every write to documents, passages or mappings, by any process (triggers of schema v3).</summary>
    public async Task<long> GetVersionAsync(CancellationToken cancellationToken = default)
    {
        await InitializeAsync(cancellationToken).ConfigureAwait(false);
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        return Convert.ToInt64(await ScalarAsync(connection, "SELECT version FROM store_version WHERE id = 1", cancellationToken).ConfigureAwait(false), CultureInfo.InvariantCulture);
    }

    public async Task SaveRunAsync(RunRecord run, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(run);
        await InitializeAsync(cancellationToken).ConfigureAwait(false);
        await _writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
            await ExecuteAsync(
                connection,
                "INSERT INTO runs (id, started_at, finished_at, processed, failed, skipped, unchanged) VALUES ($p0, $p1, $p2, $p3, $p4, $p5, $p6) " +
                "ON CONFLICT(id) DO UPDATE SET finished_at = excluded.finished_at, processed = excluded.processed, failed = excluded.failed, skipped = excluded.skipped, unchanged = excluded.unchanged",
                cancellationToken,
                null,
                run.Id, run.StartedAt.ToString("O", CultureInfo.InvariantCulture), run.FinishedAt?.ToString("O", CultureInfo.InvariantCulture), run.Processed, run.Failed, run.Skipped, run.Unchanged).ConfigureAwait(false);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    public async Task<IReadOnlyList<RunRecord>> ListRunsAsync(int limit = 20, CancellationToken cancellationToken = default)
    {
        await InitializeAsync(cancellationToken).ConfigureAwait(false);
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var cmd = Command(connection, "SELECT id, started_at, finished_at, processed, failed, skipped, unchanged FROM runs ORDER BY started_at DESC LIMIT $p0", limit);
        await using var reader = await cmd.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var runs = new List<RunRecord>();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            runs.Add(new RunRecord
            {
                Id = reader.GetString(0),
                StartedAt = DateTimeOffset.Parse(reader.GetString(1), CultureInfo.InvariantCulture),
                FinishedAt = reader.IsDBNull(2) ? null : DateTimeOffset.Parse(reader.GetString(2), CultureInfo.InvariantCulture),
                Processed = reader.GetInt32(3),
                Failed = reader.GetInt32(4),
                Skipped = reader.GetInt32(5),
                Unchanged = reader.GetInt32(6),
            });
        }

        return runs;
    }

    public void Dispose()
    {
        _writeLock.Dispose();
        _gapLock.Dispose();
    }

    /// <summary>
    /// Turns free text into two safe FTS5 queries: every term required (All) and any term (Any). Terms are the
    /// normalised words without stop words and one-letter words (kept when nothing else is left); text in double quotes
    /// is one phrase, stop words included. Every term is quoted, so FTS5 syntax in the input (AND, NEAR, column:, *, ^)
    /// is inert. Empty strings when the text has no words.
    /// </summary>
    internal static (string All, string Any) FtsQueries(string? text)
    {
        var terms = new List<string>();
        var segments = (text ?? string.Empty).Split('"');
        var plain = new List<string>();
        for (var i = 0; i < segments.Length; i++)
        {
            var words = Aims.Evidence.Core.Lexical.Tokenizer.Normalize(segments[i]).Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (i % 2 == 1 && words.Length > 0)
            {
                terms.Add("\"" + string.Join(' ', words) + "\"");
            }
            else
            {
                plain.AddRange(words);
            }
        }

        var content = plain.Where(w => w.Length > 1 && !Aims.Evidence.Core.Lexical.Tokenizer.IsStopWord(w)).ToList();
        if (content.Count == 0 && terms.Count == 0)
        {
            content = plain.Where(w => w.Length > 1).ToList();
        }

        terms.AddRange(content.Select(w => "\"" + w + "\""));
        var distinct = terms.Distinct(StringComparer.Ordinal).Take(32).ToArray();
        return (string.Join(' ', distinct), string.Join(" OR ", distinct));
    }

    private async Task<SqliteConnection> OpenAsync(CancellationToken cancellationToken)
    {
        var connection = new SqliteConnection(_connectionString);
        await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
        await ExecuteAsync(connection, "PRAGMA busy_timeout = 30000; PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL", cancellationToken).ConfigureAwait(false);
        return connection;
    }

    private async Task<IReadOnlyList<DocumentRecord>> QueryDocumentsAsync(string sql, object?[] args, CancellationToken cancellationToken)
    {
        await InitializeAsync(cancellationToken).ConfigureAwait(false);
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var cmd = Command(connection, sql, args);
        await using var reader = await cmd.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var result = new List<DocumentRecord>();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            result.Add(ReadDocument(reader, 0));
        }

        return result;
    }

    private static SqliteCommand Command(SqliteConnection connection, string sql, params object?[] args)
    {
        var cmd = connection.CreateCommand();
        cmd.CommandText = sql;
        for (var i = 0; i < args.Length; i++)
        {
            cmd.Parameters.AddWithValue("$p" + i.ToString(CultureInfo.InvariantCulture), args[i] ?? DBNull.Value);
        }

        return cmd;
    }

    private static async Task ExecuteAsync(SqliteConnection connection, string sql, CancellationToken cancellationToken, SqliteTransaction? tx = null, params object?[] args)
    {
        await using var cmd = Command(connection, sql, args);
        cmd.Transaction = tx;
        await cmd.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    private static async Task<object?> ScalarAsync(SqliteConnection connection, string sql, CancellationToken cancellationToken, SqliteTransaction? tx = null, params object?[] args)
    {
        await using var cmd = Command(connection, sql, args);
        cmd.Transaction = tx;
        return await cmd.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
    }

    private static SqliteParameter[] AddParameters(SqliteCommand cmd, int count)
    {
        var result = new SqliteParameter[count];
        for (var i = 0; i < count; i++)
        {
            result[i] = cmd.Parameters.Add("$p" + i.ToString(CultureInfo.InvariantCulture), SqliteType.Text);
        }

        return result;
    }

    private static void Set(SqliteParameter[] parameters, params object?[] values)
    {
        for (var i = 0; i < values.Length; i++)
        {
            parameters[i].Value = values[i] ?? DBNull.Value;
            parameters[i].SqliteType = values[i] switch
            {
                int or long => SqliteType.Integer,
                double => SqliteType.Real,
                _ => SqliteType.Text,
            };
        }
    }

    private static DocumentRecord ReadDocument(SqliteDataReader r, int o) => new()
    {
        Id = r.GetString(o),
        Name = r.GetString(o + 1),
        Sha256 = r.GetString(o + 2),
        Size = r.GetInt64(o + 3),
        MediaType = r.IsDBNull(o + 4) ? null : r.GetString(o + 4),
        DocType = r.IsDBNull(o + 5) ? null : r.GetString(o + 5),
        DocTypeConfidence = r.GetDouble(o + 6),
        Status = Enum.Parse<DocumentStatus>(r.GetString(o + 7), ignoreCase: true),
        Reason = r.IsDBNull(o + 8) ? null : r.GetString(o + 8),
        Version = r.GetInt32(o + 9),
        IsCurrent = r.GetInt32(o + 10) == 1,
        PageCount = r.GetInt32(o + 11),
        PassageCount = r.GetInt32(o + 12),
        IngestedAt = DateTimeOffset.Parse(r.GetString(o + 13), CultureInfo.InvariantCulture),
        EffectiveDate = r.IsDBNull(o + 14) ? null : DateOnly.Parse(r.GetString(o + 14), CultureInfo.InvariantCulture),
        RunId = r.IsDBNull(o + 15) ? null : r.GetString(o + 15),
        StatedDate = r.IsDBNull(o + 16) ? null : DateOnly.Parse(r.GetString(o + 16), CultureInfo.InvariantCulture),
        StatedDateSource = r.IsDBNull(o + 17) ? null : r.GetString(o + 17),
    };

    private static PassageRecord ReadPassage(SqliteDataReader r, int o) => new()
    {
        Id = r.GetString(o),
        DocumentId = r.GetString(o + 1),
        Ordinal = r.GetInt32(o + 2),
        Page = r.GetInt32(o + 3),
        Headings = JsonSerializer.Deserialize<string[]>(r.GetString(o + 4)) ?? [],
        Text = r.GetString(o + 5),
        Start = r.GetInt32(o + 6),
        Length = r.GetInt32(o + 7),
        Kind = r.GetString(o + 8),
        RowStart = r.IsDBNull(o + 9) ? null : r.GetInt32(o + 9),
        RowEnd = r.IsDBNull(o + 10) ? null : r.GetInt32(o + 10),
    };

    private static MappingRecord ReadMapping(SqliteDataReader r, int o) => new()
    {
        Id = r.GetString(o),
        PassageId = r.GetString(o + 1),
        ControlId = r.GetString(o + 2),
        Score = r.GetDouble(o + 3),
        Method = r.GetString(o + 4),
        Rationale = r.GetString(o + 5),
        Model = r.IsDBNull(o + 6) ? null : r.GetString(o + 6),
        PromptVersion = r.IsDBNull(o + 7) ? null : r.GetString(o + 7),
        ProfileVersion = r.IsDBNull(o + 8) ? null : r.GetString(o + 8),
        Review = Enum.Parse<ReviewState>(r.GetString(o + 9), ignoreCase: true),
        Polarity = ParsePolarity(r.GetString(o + 10)),
    };

    private static string StatusText(DocumentStatus status) => status.ToString().ToLowerInvariant();

    private static string ReviewText(ReviewState review) => review.ToString().ToLowerInvariant();

    private static string PolarityText(MappingPolarity polarity) => polarity.ToString().ToLowerInvariant();

    private static MappingPolarity ParsePolarity(string text) => Enum.Parse<MappingPolarity>(text, ignoreCase: true);
}
