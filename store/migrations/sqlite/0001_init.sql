CREATE TABLE users (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    name          TEXT    NOT NULL UNIQUE,
    password_hash TEXT    NOT NULL DEFAULT '',
    role          TEXT    NOT NULL CHECK (role IN ('admin', 'user')),
    oidc_subject  TEXT    UNIQUE,
    created_at    DATETIME NOT NULL
);

CREATE TABLE tokens (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id      INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name         TEXT    NOT NULL,
    prefix       TEXT    NOT NULL,
    hash         TEXT    NOT NULL UNIQUE,
    scopes       TEXT    NOT NULL,
    created_at   DATETIME NOT NULL,
    expires_at   DATETIME NOT NULL,
    last_used_at DATETIME
);
CREATE INDEX tokens_user ON tokens(user_id);

CREATE TABLE processes (
    id               TEXT    PRIMARY KEY,
    owner_id         INTEGER NOT NULL REFERENCES users(id),
    kind             TEXT    NOT NULL,
    tag              TEXT,
    state            TEXT    NOT NULL,
    reason           TEXT    NOT NULL DEFAULT '',
    dockerfile       TEXT    NOT NULL DEFAULT '',
    input_digest     TEXT    NOT NULL DEFAULT '',
    output_digest    TEXT    NOT NULL DEFAULT '',
    log_digest       TEXT    NOT NULL DEFAULT '',
    job_id           INTEGER NOT NULL DEFAULT 0,
    cancel_requested BOOLEAN NOT NULL DEFAULT FALSE,
    heartbeat_at     DATETIME,
    created_at       DATETIME NOT NULL,
    started_at       DATETIME,
    finished_at      DATETIME
);
CREATE INDEX processes_owner_created ON processes(owner_id, created_at);
CREATE INDEX processes_state ON processes(state);
