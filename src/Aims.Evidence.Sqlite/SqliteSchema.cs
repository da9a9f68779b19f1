namespace Aims.Evidence.Sqlite;

/// <summary>Versioned schema migrations, applied in order and tracked in PRAGMA user_version.</summary>
internal static class SqliteSchema
{
    public static IReadOnlyList<string[]> Migrations { get; } =
    [
        // v1: documents with versions, passages (+ FTS5), mappings, runs.
        [
            """
            CREATE TABLE documents (
                id TEXT PRIMARY KEY,
                name TEXT NOT NULL,
                sha256 TEXT NOT NULL,
                size INTEGER NOT NULL,
                media_type TEXT,
                doc_type TEXT,
                doc_type_confidence REAL NOT NULL DEFAULT 0,
                status TEXT NOT NULL,
                reason TEXT,
                version INTEGER NOT NULL,
                is_current INTEGER NOT NULL,
                page_count INTEGER NOT NULL DEFAULT 0,
                passage_count INTEGER NOT NULL DEFAULT 0,
                ingested_at TEXT NOT NULL,
                effective_date TEXT,
                run_id TEXT
            )
            """,
            "CREATE UNIQUE INDEX ux_documents_name_version ON documents(name, version)",
            "CREATE UNIQUE INDEX ux_documents_current_name ON documents(name) WHERE is_current = 1",
            "CREATE INDEX ix_documents_current_sha ON documents(sha256) WHERE is_current = 1",
            """
            CREATE TABLE passages (
                seq INTEGER PRIMARY KEY,
                id TEXT NOT NULL UNIQUE,
                document_id TEXT NOT NULL REFERENCES documents(id),
                ordinal INTEGER NOT NULL,
                page INTEGER NOT NULL,
                headings TEXT NOT NULL,
                text TEXT NOT NULL,
                start INTEGER NOT NULL,
                length INTEGER NOT NULL,
                kind TEXT NOT NULL
            )
            """,
            "CREATE INDEX ix_passages_document ON passages(document_id, ordinal)",
            """
            CREATE TABLE mappings (
                id TEXT PRIMARY KEY,
                passage_id TEXT NOT NULL REFERENCES passages(id),
                control_id TEXT NOT NULL,
                score REAL NOT NULL,
                method TEXT NOT NULL,
                rationale TEXT NOT NULL,
                model TEXT,
                prompt_version TEXT,
                profile_version TEXT,
                review TEXT NOT NULL DEFAULT 'unreviewed'
            )
            """,
            "CREATE INDEX ix_mappings_control ON mappings(control_id, score DESC)",
            "CREATE INDEX ix_mappings_passage ON mappings(passage_id)",
            """
            CREATE TABLE runs (
                id TEXT PRIMARY KEY,
                started_at TEXT NOT NULL,
                finished_at TEXT,
                processed INTEGER NOT NULL DEFAULT 0,
                failed INTEGER NOT NULL DEFAULT 0,
                skipped INTEGER NOT NULL DEFAULT 0,
                unchanged INTEGER NOT NULL DEFAULT 0
            )
            """,
            "CREATE VIRTUAL TABLE passages_fts USING fts5(text, headings, content='passages', content_rowid='seq', tokenize='porter unicode61')",
        ],

        // v2: review metadata on mappings, append-only audit log, hashed API keys.
        [
            "ALTER TABLE mappings ADD COLUMN reviewed_by TEXT",
            "ALTER TABLE mappings ADD COLUMN reviewed_at TEXT",
            "ALTER TABLE mappings ADD COLUMN review_comment TEXT",
            """
            CREATE TABLE audit_log (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                at TEXT NOT NULL,
                actor TEXT NOT NULL,
                action TEXT NOT NULL,
                target TEXT NOT NULL,
                before TEXT,
                after TEXT
            )
            """,
            "CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END",
            "CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END",
            """
            CREATE TABLE api_keys (
                id TEXT PRIMARY KEY,
                role TEXT NOT NULL,
                key_hash TEXT NOT NULL UNIQUE,
                created_at TEXT NOT NULL
            )
            """,
        ],

        // v3: LLM-judged mapping: usage per document and run, and the judgement cache.
        [
            """
            CREATE TABLE llm_usage (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                document_id TEXT,
                document_name TEXT,
                run_id TEXT,
                model TEXT,
                prompt_version TEXT,
                calls INTEGER NOT NULL DEFAULT 0,
                prompt_tokens INTEGER NOT NULL DEFAULT 0,
                completion_tokens INTEGER NOT NULL DEFAULT 0,
                cache_hits INTEGER NOT NULL DEFAULT 0,
                rejected_ids INTEGER NOT NULL DEFAULT 0,
                fallbacks INTEGER NOT NULL DEFAULT 0,
                repairs INTEGER NOT NULL DEFAULT 0,
                recorded_at TEXT NOT NULL
            )
            """,
            "CREATE INDEX ix_llm_usage_run ON llm_usage(run_id)",
            "CREATE INDEX ix_llm_usage_document ON llm_usage(document_id)",
            """
            CREATE TABLE llm_cache (
                passage_sha256 TEXT NOT NULL,
                prompt_version TEXT NOT NULL,
                model TEXT NOT NULL,
                result TEXT NOT NULL,
                created_at TEXT NOT NULL,
                PRIMARY KEY (passage_sha256, prompt_version, model)
            )
            """,
        ],
        // v4: a version counter bumped by every write to documents, passages and mappings (read models cache per version).
        [
            "CREATE TABLE store_version (id INTEGER PRIMARY KEY CHECK (id = 1), version INTEGER NOT NULL)",
            "INSERT INTO store_version (id, version) VALUES (1, 0)",
            "CREATE TRIGGER store_version_documents_insert AFTER INSERT ON documents BEGIN UPDATE store_version SET version = version + 1 WHERE id = 1; END",
            "CREATE TRIGGER store_version_documents_update AFTER UPDATE ON documents BEGIN UPDATE store_version SET version = version + 1 WHERE id = 1; END",
            "CREATE TRIGGER store_version_documents_delete AFTER DELETE ON documents BEGIN UPDATE store_version SET version = version + 1 WHERE id = 1; END",
            "CREATE TRIGGER store_version_mappings_insert AFTER INSERT ON mappings BEGIN UPDATE store_version SET version = version + 1 WHERE id = 1; END",
            "CREATE TRIGGER store_version_mappings_update AFTER UPDATE ON mappings BEGIN UPDATE store_version SET version = version + 1 WHERE id = 1; END",
            "CREATE TRIGGER store_version_mappings_delete AFTER DELETE ON mappings BEGIN UPDATE store_version SET version = version + 1 WHERE id = 1; END",
            "CREATE TRIGGER store_version_passages_insert AFTER INSERT ON passages BEGIN UPDATE store_version SET version = version + 1 WHERE id = 1; END",
            "CREATE TRIGGER store_version_passages_update AFTER UPDATE ON passages BEGIN UPDATE store_version SET version = version + 1 WHERE id = 1; END",
            "CREATE TRIGGER store_version_passages_delete AFTER DELETE ON passages BEGIN UPDATE store_version SET version = version + 1 WHERE id = 1; END",
        ],

        // v5: personal identifiers redacted before text was sent to the model (counts only).
        [
            "ALTER TABLE llm_usage ADD COLUMN redactions INTEGER NOT NULL DEFAULT 0",
        ],

        // v6: the gap report's read model: per catalog entry and document, aggregates of the non-rejected mappings,
        // kept up to date by triggers in the transaction of every mapping write (see SqliteEvidenceStore.Gaps.cs).
        // Rows are never deleted by the triggers: a row whose evidence is gone keeps passages = 0, so readers can cache
        // the table and re-read only the rows whose version (the store version after the write) grew.
        [
            "CREATE TABLE gap_containers (control_id TEXT PRIMARY KEY, container_id TEXT NOT NULL) WITHOUT ROWID",
            "CREATE TABLE gap_state (id INTEGER PRIMARY KEY CHECK (id = 1), generation INTEGER NOT NULL)",
            "INSERT INTO gap_state (id, generation) VALUES (1, 0)",
            """
            CREATE TABLE gap_evidence (
                entry_id TEXT NOT NULL,
                document_id TEXT NOT NULL,
                passages INTEGER NOT NULL,
                max_score REAL NOT NULL,
                accepted INTEGER NOT NULL,
                best_mapping_id TEXT NOT NULL,
                best_accepted INTEGER NOT NULL,
                best_score REAL NOT NULL,
                version INTEGER NOT NULL,
                PRIMARY KEY (entry_id, document_id)
            ) WITHOUT ROWID
            """,
            "CREATE INDEX ix_gap_evidence_version ON gap_evidence(version)",
            GapEvidenceInsertAllFor(6),
            .. GapTriggers(6),
        ],

        // v7: polarity of mappings ('supports' or 'finding'); findings never count in the gap read model (they are
        // read separately, see SqliteEvidenceStore.Gaps.cs). Existing mappings are all 'supports': no rebuild needed.
        // Documents keep the date they state about themselves; table-row passages their spreadsheet rows.
        [
            "ALTER TABLE mappings ADD COLUMN polarity TEXT NOT NULL DEFAULT 'supports'",
            "ALTER TABLE documents ADD COLUMN stated_date TEXT",
            "ALTER TABLE documents ADD COLUMN stated_date_source TEXT",
            "ALTER TABLE passages ADD COLUMN row_start INTEGER",
            "ALTER TABLE passages ADD COLUMN row_end INTEGER",
            "DROP TRIGGER gap_evidence_mappings_insert",
            "DROP TRIGGER gap_evidence_mappings_update",
            "DROP TRIGGER gap_evidence_mappings_delete",
            .. GapTriggers(7),
            "CREATE INDEX ix_mappings_findings ON mappings(polarity) WHERE polarity <> 'supports'",
        ],

        // v8: each passage keeps its mapper's best entries (JSON, see PassageCandidates) so reviews can re-rank it;
        // reviewed mappings are found by review state for the review memory; applicability decisions.
        [
            "ALTER TABLE passages ADD COLUMN candidates TEXT",
            "CREATE INDEX ix_mappings_reviewed ON mappings(review) WHERE review <> 'unreviewed' OR method = 'manual'",

            // Applicability decisions (one row per entry, the latest); a change is a write for the read side's caches.
            "CREATE TABLE applicability (control_id TEXT PRIMARY KEY, applicable INTEGER NOT NULL, justification TEXT NOT NULL, actor TEXT NOT NULL, at TEXT NOT NULL)",
            "CREATE TRIGGER store_version_applicability_insert AFTER INSERT ON applicability BEGIN UPDATE store_version SET version = version + 1 WHERE id = 1; END",
            "CREATE TRIGGER store_version_applicability_update AFTER UPDATE ON applicability BEGIN UPDATE store_version SET version = version + 1 WHERE id = 1; END",
        ],

        // v9: entry owners (one row per entry; a change is a write for the read side's caches) and the days a digest
        // was sent (at most one per day; the gaps of that day, JSON, tell the next digest which gaps are new).
        [
            "CREATE TABLE owners (control_id TEXT PRIMARY KEY, owner TEXT NOT NULL, due_date TEXT, actor TEXT NOT NULL, at TEXT NOT NULL)",
            "CREATE TRIGGER store_version_owners_insert AFTER INSERT ON owners BEGIN UPDATE store_version SET version = version + 1 WHERE id = 1; END",
            "CREATE TRIGGER store_version_owners_update AFTER UPDATE ON owners BEGIN UPDATE store_version SET version = version + 1 WHERE id = 1; END",
            "CREATE TRIGGER store_version_owners_delete AFTER DELETE ON owners BEGIN UPDATE store_version SET version = version + 1 WHERE id = 1; END",
            "CREATE TABLE digests (day TEXT PRIMARY KEY, at TEXT NOT NULL, gaps TEXT NOT NULL)",
        ],

        // v10: ingestion attempts that started and never finished (a document that killed the process is not parsed a
        // third time; see IIngestionAttemptStore). Not a read-side change: no store_version trigger.
        [
            "CREATE TABLE ingest_attempts (sha256 TEXT PRIMARY KEY, name TEXT NOT NULL, attempts INTEGER NOT NULL, started_at TEXT NOT NULL)",
        ],

        // v11: reviewer edits of the AI-system inventory (append only, applied in order over the systems derived from
        // the documents at read time, so they survive re-ingestion). The inventory reads them at every request: no trigger.
        [
            "CREATE TABLE ai_system_edits (seq INTEGER PRIMARY KEY AUTOINCREMENT, system_id TEXT NOT NULL, action TEXT NOT NULL, body TEXT NOT NULL, actor TEXT NOT NULL, at TEXT NOT NULL)",
        ],
    ];

    /// <summary>The columns of gap_evidence, in insert order.</summary>
    internal const string GapEvidenceColumns = "entry_id, document_id, passages, max_score, accepted, best_mapping_id, best_accepted, best_score, version";

    /// <summary>
    /// The version stamped on a changed row: the store version + 1, read inside the writing transaction. It is greater
    /// than any version a reader saw before the write (whichever of this and the store_version trigger fires first),
    /// so "version &gt; the version I cached" finds every row changed since.
    /// </summary>
    private const string Version = "((SELECT version FROM store_version WHERE id = 1) + 1)";

    /// <summary>Fills gap_evidence from scratch (the table must be empty): every entry and document with counted mappings.</summary>
    internal static string GapEvidenceInsertAll => GapEvidenceInsertAllFor(Migrations.Count);

    private static string GapEvidenceInsertAllFor(int schema) =>
        "INSERT INTO gap_evidence (" + GapEvidenceColumns + ") " + AggregateHead +
        "SELECT m.control_id AS e, p.document_id AS doc, p.id AS pid, m.id AS mid, m.score AS score, m.review = 'accepted' AS acc " +
        $"FROM mappings m JOIN passages p ON p.id = m.passage_id WHERE {Counted("m", schema)} " +
        "UNION ALL SELECT c.container_id, p.document_id, p.id, m.id, m.score, m.review = 'accepted' " +
        $"FROM mappings m JOIN gap_containers c ON c.control_id = m.control_id JOIN passages p ON p.id = m.passage_id WHERE {Counted("m", schema)}" +
        AggregateTail;

    /// <summary>Whether the mapping row <paramref name="alias"/> counts as evidence: not rejected and (from v7) supporting, not a finding.</summary>
    private static string Counted(string alias, int schema) =>
        schema >= 7 ? $"{alias}.review <> 'rejected' AND {alias}.polarity = 'supports'" : $"{alias}.review <> 'rejected'";

    /// <summary>The triggers keeping gap_evidence current, as of schema <paramref name="schema"/>.</summary>
    private static string[] GapTriggers(int schema) =>
    [
        // A new mapping updates its entry's (and its container's) row for the document in O(1): no rescan of the
        // document, so writing a document with n mappings stays O(n).
        """
        CREATE TRIGGER gap_evidence_mappings_insert AFTER INSERT ON mappings WHEN {CountedNew} BEGIN
            INSERT INTO gap_evidence (entry_id, document_id, passages, max_score, accepted, best_mapping_id, best_accepted, best_score, version)
            SELECT g.e, p.document_id, 1, NEW.score, NEW.review = 'accepted', NEW.id, NEW.review = 'accepted', NEW.score, {Version}
            FROM (SELECT NEW.control_id AS e UNION SELECT container_id FROM gap_containers WHERE control_id = NEW.control_id) g, passages p
            WHERE p.id = NEW.passage_id
            ON CONFLICT (entry_id, document_id) DO UPDATE SET
                passages = passages + NOT EXISTS (
                    SELECT 1 FROM mappings o WHERE o.passage_id = NEW.passage_id AND o.id <> NEW.id AND {CountedOther}
                    AND (o.control_id = gap_evidence.entry_id OR o.control_id IN (SELECT control_id FROM gap_containers WHERE container_id = gap_evidence.entry_id))),
                max_score = CASE WHEN passages = 0 THEN excluded.max_score ELSE MAX(max_score, excluded.max_score) END,
                accepted = accepted + excluded.accepted,
                best_mapping_id = CASE WHEN passages = 0 OR {Better} THEN excluded.best_mapping_id ELSE best_mapping_id END,
                best_accepted = CASE WHEN passages = 0 OR {Better} THEN excluded.best_accepted ELSE best_accepted END,
                best_score = CASE WHEN passages = 0 OR {Better} THEN excluded.best_score ELSE best_score END,
                version = excluded.version;
        END
        """.Replace("{Better}", Better, StringComparison.Ordinal).Replace("{Version}", Version, StringComparison.Ordinal)
            .Replace("{CountedNew}", Counted("NEW", schema), StringComparison.Ordinal).Replace("{CountedOther}", Counted("o", schema), StringComparison.Ordinal),

        // Reviews (accept/reject), polarity changes, deletes and other changes recompute the affected rows from the document's mappings.
        $"CREATE TRIGGER gap_evidence_mappings_update AFTER UPDATE OF review, score, control_id, passage_id{(schema >= 7 ? ", polarity" : string.Empty)} ON mappings BEGIN {Recompute("OLD", schema)} {Recompute("NEW", schema)} END",
        $"CREATE TRIGGER gap_evidence_mappings_delete AFTER DELETE ON mappings BEGIN {Recompute("OLD", schema)} END",
    ];

    // Aggregates rows (e = entry, doc, pid = passage, mid = mapping, score, acc = accepted 0/1) per entry and document:
    // distinct passages, best score, accepted count, and the best mapping: accepted first, then score, then lowest id.
    private const string AggregateHead =
        "SELECT e, doc, COUNT(DISTINCT pid), MAX(score), SUM(acc), MAX(CASE WHEN rn = 1 THEN mid END), MAX(CASE WHEN rn = 1 THEN acc END), MAX(CASE WHEN rn = 1 THEN score END), " + Version + " " +
        "FROM (SELECT e, doc, pid, mid, score, acc, ROW_NUMBER() OVER (PARTITION BY e, doc ORDER BY acc DESC, score DESC, mid) AS rn FROM (";

    private const string AggregateTail = ")) WHERE true GROUP BY e, doc"; // WHERE: no upsert parsing ambiguity

    /// <summary>True when the new mapping (excluded.*) ranks before the row's current best.</summary>
    private const string Better =
        "(excluded.best_accepted > best_accepted OR (excluded.best_accepted = best_accepted AND (excluded.best_score > best_score OR (excluded.best_score = best_score AND excluded.best_mapping_id < best_mapping_id))))";

    /// <summary>
    /// Trigger statements recomputing the rows of the mapping row <paramref name="row"/> (OLD or NEW): its control and
    /// container, in its document. The rows are zeroed first, so one left without evidence stays with passages = 0.
    /// </summary>
    private static string Recompute(string row, int schema)
    {
        var entries = $"(SELECT {row}.control_id AS e UNION SELECT container_id FROM gap_containers WHERE control_id = {row}.control_id)";
        var doc = $"(SELECT document_id FROM passages WHERE id = {row}.passage_id)";
        return $"UPDATE gap_evidence SET passages = 0, accepted = 0, version = {Version} WHERE document_id = {doc} AND entry_id IN {entries}; " +
               $"INSERT INTO gap_evidence ({GapEvidenceColumns}) {AggregateHead}" +
               $"SELECT g.e AS e, p.document_id AS doc, p.id AS pid, m.id AS mid, m.score AS score, m.review = 'accepted' AS acc FROM {entries} g " +
               $"JOIN passages p ON p.document_id = {doc} JOIN mappings m ON m.passage_id = p.id " +
               $"WHERE {Counted("m", schema)} AND (m.control_id = g.e OR m.control_id IN (SELECT control_id FROM gap_containers WHERE container_id = g.e))" +
               $"{AggregateTail} ON CONFLICT (entry_id, document_id) DO UPDATE SET passages = excluded.passages, max_score = excluded.max_score, accepted = excluded.accepted, " +
               "best_mapping_id = excluded.best_mapping_id, best_accepted = excluded.best_accepted, best_score = excluded.best_score, version = excluded.version;";
    }
}
