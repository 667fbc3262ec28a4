-- The job engine (service/job): every long-running thing of every API family is
-- a row of jobs, with ordered steps and named outputs. REE processes become the
-- REE view of their job: ree_processes keeps only what the REE API adds.
CREATE TABLE jobs (
    id               TEXT     PRIMARY KEY,
    family           TEXT     NOT NULL,
    kind             TEXT     NOT NULL,
    owner_id         INTEGER  NOT NULL REFERENCES users(id),
    group_id         INTEGER,
    state            TEXT     NOT NULL,
    reason           TEXT     NOT NULL DEFAULT '',
    progress_percent INTEGER  NOT NULL DEFAULT 0,
    progress_message TEXT     NOT NULL DEFAULT '',
    attempt          INTEGER  NOT NULL DEFAULT 0,
    max_attempts     INTEGER  NOT NULL DEFAULT 1,
    args             TEXT     NOT NULL DEFAULT '{}',
    log_digest       TEXT     NOT NULL DEFAULT '',
    river_job_id     INTEGER  NOT NULL DEFAULT 0,
    cancel_requested BOOLEAN  NOT NULL DEFAULT FALSE,
    heartbeat_at     DATETIME,
    created_at       DATETIME NOT NULL,
    started_at       DATETIME,
    finished_at      DATETIME
);
CREATE INDEX jobs_owner_created ON jobs(owner_id, created_at);
CREATE INDEX jobs_family_state ON jobs(family, state);

CREATE TABLE job_steps (
    job_id      TEXT     NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
    position    INTEGER  NOT NULL,
    name        TEXT     NOT NULL,
    state       TEXT     NOT NULL,
    started_at  DATETIME,
    finished_at DATETIME,
    exit_code   INTEGER,
    error       TEXT     NOT NULL DEFAULT '',
    log_digest  TEXT     NOT NULL DEFAULT '',
    PRIMARY KEY (job_id, position)
);

CREATE TABLE job_outputs (
    job_id     TEXT    NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
    name       TEXT    NOT NULL,
    digest     TEXT    NOT NULL,
    size       INTEGER NOT NULL,
    media_type TEXT    NOT NULL,
    PRIMARY KEY (job_id, name)
);

CREATE TABLE ree_processes (
    id           TEXT PRIMARY KEY REFERENCES jobs(id) ON DELETE CASCADE,
    tag          TEXT,
    dockerfile   TEXT NOT NULL DEFAULT '',
    input_digest TEXT NOT NULL DEFAULT ''
);
CREATE INDEX ree_processes_tag ON ree_processes(tag);

INSERT INTO jobs (id, family, kind, owner_id, group_id, state, reason, progress_percent, progress_message,
                  attempt, max_attempts, args, log_digest, river_job_id, cancel_requested, heartbeat_at,
                  created_at, started_at, finished_at)
SELECT id, 'ree', 'ree_' || kind, owner_id, NULL,
       CASE state WHEN 'processed' THEN 'succeeded' ELSE state END, reason,
       CASE state WHEN 'processed' THEN 100 ELSE 0 END, '',
       CASE WHEN started_at IS NULL THEN 0 ELSE 1 END, 3,
       json_object('dockerfile', dockerfile, 'input_digest', input_digest, 'tag', tag),
       log_digest, job_id, cancel_requested, heartbeat_at, created_at, started_at, finished_at
FROM processes;

-- The size of an output recorded before the engine is not known here: 0.
INSERT INTO job_outputs (job_id, name, digest, size, media_type)
SELECT id, 'ree.zip', output_digest, 0, 'application/zip' FROM processes WHERE output_digest <> '';

INSERT INTO ree_processes (id, tag, dockerfile, input_digest)
SELECT id, tag, dockerfile, input_digest FROM processes;

DROP TABLE processes;
