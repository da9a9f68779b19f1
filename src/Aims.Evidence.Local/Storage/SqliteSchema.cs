namespace Aims.Evidence.Local.Storage;

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
    ];
}
