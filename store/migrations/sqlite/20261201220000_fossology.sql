-- The FOSSology family (service/fossology): folders, uploads with their unpacked
-- tree, agent findings, clearing decisions and bulk rules, the integer job ids
-- FOSSology clients see (each names an engine job), and reports.
-- Folder 1 is "Software Repository", the top folder every group sees.
CREATE TABLE fossology_folders (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    group_id    INTEGER REFERENCES user_groups(id) ON DELETE CASCADE,
    parent_id   INTEGER REFERENCES fossology_folders(id) ON DELETE CASCADE,
    name        TEXT     NOT NULL,
    description TEXT     NOT NULL DEFAULT '',
    created_at  DATETIME NOT NULL
);
CREATE INDEX fossology_folders_group ON fossology_folders(group_id, parent_id);
INSERT INTO fossology_folders (id, group_id, parent_id, name, description, created_at)
VALUES (1, NULL, NULL, 'Software Repository', 'Top Folder', CURRENT_TIMESTAMP);

CREATE TABLE fossology_uploads (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    group_id        INTEGER  NOT NULL REFERENCES user_groups(id) ON DELETE CASCADE,
    owner_id        INTEGER  NOT NULL REFERENCES users(id),
    folder_id       INTEGER  NOT NULL REFERENCES fossology_folders(id),
    name            TEXT     NOT NULL,
    description     TEXT     NOT NULL DEFAULT '',
    upload_type     TEXT     NOT NULL,
    public          TEXT     NOT NULL DEFAULT 'protected',
    ignore_scm      BOOLEAN  NOT NULL DEFAULT FALSE,
    source          TEXT     NOT NULL DEFAULT '',
    blob_digest     TEXT     NOT NULL DEFAULT '',
    sha1            TEXT     NOT NULL DEFAULT '',
    md5             TEXT     NOT NULL DEFAULT '',
    sha256          TEXT     NOT NULL DEFAULT '',
    size            INTEGER  NOT NULL DEFAULT 0,
    state           TEXT     NOT NULL,
    reason          TEXT     NOT NULL DEFAULT '',
    clearing_status TEXT     NOT NULL DEFAULT 'Open',
    assignee_id     INTEGER  REFERENCES users(id) ON DELETE SET NULL,
    main_license    TEXT     NOT NULL DEFAULT '',
    created_at      DATETIME NOT NULL,
    unpacked_at     DATETIME
);
CREATE INDEX fossology_uploads_group ON fossology_uploads(group_id, folder_id);

CREATE TABLE fossology_items (
    upload_id   INTEGER NOT NULL REFERENCES fossology_uploads(id) ON DELETE CASCADE,
    item_id     INTEGER NOT NULL,
    path        TEXT    NOT NULL,
    kind        TEXT    NOT NULL,
    sha1        TEXT    NOT NULL DEFAULT '',
    md5         TEXT    NOT NULL DEFAULT '',
    sha256      TEXT    NOT NULL DEFAULT '',
    size        INTEGER NOT NULL DEFAULT 0,
    mime_type   TEXT    NOT NULL DEFAULT '',
    format      TEXT    NOT NULL DEFAULT '',
    archive     TEXT    NOT NULL DEFAULT '',
    link_target TEXT    NOT NULL DEFAULT '',
    PRIMARY KEY (upload_id, item_id)
);

CREATE TABLE fossology_jobs (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    job_id           TEXT     NOT NULL UNIQUE REFERENCES jobs(id) ON DELETE CASCADE,
    upload_id        INTEGER  NOT NULL REFERENCES fossology_uploads(id) ON DELETE CASCADE,
    kind             TEXT     NOT NULL,
    agents           TEXT     NOT NULL DEFAULT '',
    files_total      INTEGER  NOT NULL DEFAULT 0,
    files_done       INTEGER  NOT NULL DEFAULT 0,
    step_started_at  DATETIME,
    first_finding_at DATETIME,
    webhook_url      TEXT     NOT NULL DEFAULT '',
    webhook_secret   TEXT     NOT NULL DEFAULT '',
    webhook_state    TEXT     NOT NULL DEFAULT '',
    webhook_attempts INTEGER  NOT NULL DEFAULT 0,
    webhook_next_at  DATETIME
);
CREATE INDEX fossology_jobs_upload ON fossology_jobs(upload_id);
CREATE INDEX fossology_jobs_webhook ON fossology_jobs(webhook_state);

CREATE TABLE fossology_findings (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    upload_id  INTEGER NOT NULL REFERENCES fossology_uploads(id) ON DELETE CASCADE,
    agent      TEXT    NOT NULL,
    path       TEXT    NOT NULL,
    sha1       TEXT    NOT NULL DEFAULT '',
    type       TEXT    NOT NULL,
    value      TEXT    NOT NULL,
    expression TEXT    NOT NULL DEFAULT '',
    rule       TEXT    NOT NULL DEFAULT '',
    start_line INTEGER NOT NULL DEFAULT 0,
    end_line   INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX fossology_findings_upload ON fossology_findings(upload_id, agent);

CREATE TABLE fossology_decisions (
    upload_id  INTEGER  NOT NULL REFERENCES fossology_uploads(id) ON DELETE CASCADE,
    path       TEXT     NOT NULL,
    sha1       TEXT     NOT NULL DEFAULT '',
    status     TEXT     NOT NULL,
    licenses   TEXT     NOT NULL DEFAULT '',
    source     TEXT     NOT NULL,
    comment    TEXT     NOT NULL DEFAULT '',
    user_id    TEXT     NOT NULL DEFAULT '',
    decided_at DATETIME NOT NULL,
    PRIMARY KEY (upload_id, path)
);

CREATE TABLE fossology_bulks (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    upload_id  INTEGER  NOT NULL REFERENCES fossology_uploads(id) ON DELETE CASCADE,
    text       TEXT     NOT NULL,
    licenses   TEXT     NOT NULL,
    user_id    TEXT     NOT NULL DEFAULT '',
    created_at DATETIME NOT NULL
);
CREATE INDEX fossology_bulks_upload ON fossology_bulks(upload_id);

CREATE TABLE fossology_reports (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    upload_id  INTEGER  NOT NULL REFERENCES fossology_uploads(id) ON DELETE CASCADE,
    job_id     TEXT     NOT NULL DEFAULT '',
    format     TEXT     NOT NULL,
    digest     TEXT     NOT NULL DEFAULT '',
    file_name  TEXT     NOT NULL DEFAULT '',
    created_at DATETIME NOT NULL
);
