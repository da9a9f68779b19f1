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
    ];
}
