-- recoapi SQLite schema, version 1.
-- Entities (items, users) get a dense index per database: ratings, interactions and the
-- engine refer to that index, external ids live only in `entities`.

CREATE TABLE organizations (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    metadata    TEXT NOT NULL DEFAULT '{}',
    created     REAL NOT NULL
);

CREATE TABLE accounts (
    id            TEXT PRIMARY KEY,
    org_id        TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    kind          TEXT NOT NULL CHECK (kind IN ('individual', 'service')),
    email         TEXT UNIQUE,
    name          TEXT UNIQUE,
    role          TEXT NOT NULL,
    password_hash TEXT,
    first_name    TEXT NOT NULL DEFAULT '',
    last_name     TEXT NOT NULL DEFAULT '',
    metadata      TEXT NOT NULL DEFAULT '{}',
    created       REAL NOT NULL
);

CREATE TABLE service_keys (
    id          TEXT PRIMARY KEY,
    account_id  TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    key_hash    TEXT NOT NULL UNIQUE,
    created     REAL NOT NULL,
    expires     REAL,
    metadata    TEXT NOT NULL DEFAULT '{}'
);

CREATE TABLE refresh_tokens (
    token_hash  TEXT PRIMARY KEY,
    account_id  TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    db_id       TEXT,
    frontend    TEXT NOT NULL DEFAULT '{}',
    expires     REAL NOT NULL
);

CREATE TABLE databases (
    n               INTEGER PRIMARY KEY,
    id              TEXT NOT NULL UNIQUE,
    org_id          TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    name            TEXT NOT NULL,
    description     TEXT NOT NULL DEFAULT '',
    item_id_type    TEXT NOT NULL,
    user_id_type    TEXT NOT NULL,
    session_id_type TEXT NOT NULL,
    core_config     TEXT NOT NULL DEFAULT '{}',
    metadata        TEXT NOT NULL DEFAULT '{}',
    created         REAL NOT NULL,
    UNIQUE (org_id, name)
);

CREATE TABLE properties (
    dbn         INTEGER NOT NULL REFERENCES databases(n) ON DELETE CASCADE,
    entity      TEXT NOT NULL,
    name        TEXT NOT NULL,
    value_type  TEXT NOT NULL,
    repeated    INTEGER NOT NULL,
    indexed     INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (dbn, entity, name)
) WITHOUT ROWID;

CREATE TABLE entities (
    dbn     INTEGER NOT NULL REFERENCES databases(n) ON DELETE CASCADE,
    entity  TEXT NOT NULL,
    idx     INTEGER NOT NULL,
    key     ANY NOT NULL,
    props   TEXT,            -- NULL: known from ratings only, never created
    PRIMARY KEY (dbn, entity, idx),
    UNIQUE (dbn, entity, key)
) WITHOUT ROWID;

CREATE TABLE ratings (
    dbn       INTEGER NOT NULL REFERENCES databases(n) ON DELETE CASCADE,
    user_idx  INTEGER NOT NULL,
    item_idx  INTEGER NOT NULL,
    rating    REAL NOT NULL,
    ts        REAL NOT NULL,
    PRIMARY KEY (dbn, user_idx, item_idx)
) WITHOUT ROWID;

CREATE TABLE interactions (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    dbn         INTEGER NOT NULL REFERENCES databases(n) ON DELETE CASCADE,
    subject     TEXT NOT NULL CHECK (subject IN ('user', 'session')),
    subject_key ANY NOT NULL,  -- user index, or the session id itself
    item_idx    INTEGER NOT NULL,
    type        TEXT NOT NULL,
    ts          REAL NOT NULL,
    props       TEXT,
    UNIQUE (dbn, subject, subject_key, item_idx, type, ts)
);
CREATE INDEX interactions_ts ON interactions (dbn, subject, ts);

CREATE TABLE resolved_sessions (
    dbn          INTEGER NOT NULL REFERENCES databases(n) ON DELETE CASCADE,
    session_key  ANY NOT NULL,
    user_idx     INTEGER NOT NULL,
    ts           REAL NOT NULL,
    PRIMARY KEY (dbn, session_key)
) WITHOUT ROWID;

CREATE TABLE tasks (
    task_id     TEXT PRIMARY KEY,
    dbn         INTEGER NOT NULL REFERENCES databases(n) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    start_time  REAL NOT NULL,
    end_time    REAL,
    status      TEXT NOT NULL,
    progress    TEXT NOT NULL DEFAULT ''
);
CREATE INDEX tasks_by_db ON tasks (dbn, name, start_time);

CREATE TABLE models (
    id                 TEXT PRIMARY KEY,
    dbn                INTEGER NOT NULL REFERENCES databases(n) ON DELETE CASCADE,
    trained_timestamp  REAL NOT NULL,
    algorithm          TEXT NOT NULL,
    path               TEXT NOT NULL
);

CREATE TABLE scenarios (
    dbn       INTEGER NOT NULL REFERENCES databases(n) ON DELETE CASCADE,
    reco_type TEXT NOT NULL,
    name      TEXT NOT NULL,
    body      TEXT NOT NULL,
    is_default INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (dbn, reco_type, name)
) WITHOUT ROWID;
