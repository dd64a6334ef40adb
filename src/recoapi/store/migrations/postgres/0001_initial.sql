-- recoapi PostgreSQL schema, version 1: the tables of the SQLite schema, with native types.
-- Entities (items, users) get a dense index per database: ratings, interactions and the
-- engine refer to that index, external ids live only in `entities`.
--
-- Ids may be ints, text or bytes (SQLite keeps them in ANY columns). Here they are `bytea`
-- with a one-byte tag (store/_postgres_data.py: encode_key): 0x01 + int64 in offset binary,
-- 0x02 + UTF-8 text, 0x03 + raw bytes, so one column holds every id type, equality and
-- uniqueness hold, and ORDER BY sorts as SQLite does (ints, then text, then blobs).
-- Free-form documents are `json` (kept verbatim: key order, number spelling, \u0000).
-- entities, ratings and interactions have no foreign key to databases: its per-row check
-- doubled the time of bulk writes; the store checks (and key-share locks) the database row
-- once per write instead, and delete_database removes their rows itself.

CREATE TABLE organizations (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    metadata    JSON NOT NULL DEFAULT '{}',
    created     DOUBLE PRECISION NOT NULL
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
    metadata      JSON NOT NULL DEFAULT '{}',
    created       DOUBLE PRECISION NOT NULL
);
CREATE INDEX accounts_by_org ON accounts (org_id, created);

CREATE TABLE service_keys (
    id          TEXT PRIMARY KEY,
    account_id  TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    key_hash    TEXT NOT NULL UNIQUE,
    created     DOUBLE PRECISION NOT NULL,
    expires     DOUBLE PRECISION,
    metadata    JSON NOT NULL DEFAULT '{}'
);
CREATE INDEX service_keys_by_account ON service_keys (account_id);

CREATE TABLE refresh_tokens (
    token_hash  TEXT PRIMARY KEY,
    account_id  TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    db_id       TEXT,
    frontend    JSON NOT NULL DEFAULT '{}',
    expires     DOUBLE PRECISION NOT NULL
);
CREATE INDEX refresh_tokens_by_expiry ON refresh_tokens (expires);
CREATE INDEX refresh_tokens_by_account ON refresh_tokens (account_id);

CREATE TABLE databases (
    n               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id              TEXT NOT NULL UNIQUE,
    org_id          TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    name            TEXT NOT NULL,
    description     TEXT NOT NULL DEFAULT '',
    item_id_type    TEXT NOT NULL,
    user_id_type    TEXT NOT NULL,
    session_id_type TEXT NOT NULL,
    core_config     JSON NOT NULL DEFAULT '{}',
    metadata        JSON NOT NULL DEFAULT '{}',
    created         DOUBLE PRECISION NOT NULL,
    UNIQUE (org_id, name)
);

CREATE TABLE properties (
    dbn         BIGINT NOT NULL REFERENCES databases(n) ON DELETE CASCADE,
    entity      TEXT NOT NULL,
    name        TEXT NOT NULL,
    value_type  TEXT NOT NULL,
    repeated    BOOLEAN NOT NULL,
    indexed     BOOLEAN NOT NULL DEFAULT FALSE,
    PRIMARY KEY (dbn, entity, name)
);

CREATE TABLE entities (
    dbn     BIGINT NOT NULL,  -- no foreign key, see above
    entity  TEXT NOT NULL,
    idx     BIGINT NOT NULL,
    key     BYTEA NOT NULL,  -- tagged id, see above
    props   JSON,            -- NULL: known from ratings only, never created
    PRIMARY KEY (dbn, entity, idx),
    UNIQUE (dbn, entity, key)
);

CREATE TABLE ratings (
    dbn       BIGINT NOT NULL,  -- no foreign key, see above
    user_idx  BIGINT NOT NULL,
    item_idx  BIGINT NOT NULL,
    rating    DOUBLE PRECISION NOT NULL,
    ts        DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (dbn, user_idx, item_idx)
);

CREATE TABLE interactions (
    seq         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    dbn         BIGINT NOT NULL,  -- no foreign key, see above
    subject     TEXT NOT NULL CHECK (subject IN ('user', 'session')),
    subject_key BYTEA NOT NULL,  -- tagged user index, or the tagged session id itself
    item_idx    BIGINT NOT NULL,
    type        TEXT NOT NULL,
    ts          DOUBLE PRECISION NOT NULL,
    props       JSON,
    UNIQUE (dbn, subject, subject_key, item_idx, type, ts)
);
CREATE INDEX interactions_ts ON interactions (dbn, subject, ts);
CREATE INDEX interactions_seq ON interactions (dbn, subject, seq);

CREATE TABLE resolved_sessions (
    dbn          BIGINT NOT NULL REFERENCES databases(n) ON DELETE CASCADE,
    session_key  BYTEA NOT NULL,
    user_idx     BIGINT NOT NULL,
    ts           DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (dbn, session_key)
);

CREATE TABLE tasks (
    task_id     TEXT PRIMARY KEY,
    dbn         BIGINT NOT NULL REFERENCES databases(n) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    start_time  DOUBLE PRECISION NOT NULL,
    end_time    DOUBLE PRECISION,
    status      TEXT NOT NULL,
    progress    TEXT NOT NULL DEFAULT ''
);
CREATE INDEX tasks_by_db ON tasks (dbn, name, start_time);

CREATE TABLE models (
    id                 TEXT PRIMARY KEY,
    dbn                BIGINT NOT NULL REFERENCES databases(n) ON DELETE CASCADE,
    trained_timestamp  DOUBLE PRECISION NOT NULL,
    algorithm          TEXT NOT NULL,
    path               TEXT NOT NULL
);
CREATE INDEX models_by_db ON models (dbn, trained_timestamp);

CREATE TABLE scenarios (
    dbn        BIGINT NOT NULL REFERENCES databases(n) ON DELETE CASCADE,
    reco_type  TEXT NOT NULL,
    name       TEXT NOT NULL,
    body       JSON NOT NULL,
    is_default BOOLEAN NOT NULL DEFAULT FALSE,
    PRIMARY KEY (dbn, reco_type, name)
);
