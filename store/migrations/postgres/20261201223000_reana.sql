-- The REANA family (service/workflow): workflows with their runs' steps, the
-- owners' encrypted secrets and the serial cache. A workflow's status is a view
-- of its current job (job_id, empty until the first start) and deleted_at.
CREATE TABLE reana_workflows (
    id           TEXT     PRIMARY KEY,
    owner_id     BIGINT   NOT NULL REFERENCES users(id),
    name         TEXT     NOT NULL,
    run          INTEGER  NOT NULL,
    spec         TEXT     NOT NULL,
    parameters   TEXT     NOT NULL DEFAULT '{}',
    options      TEXT     NOT NULL DEFAULT '{}',
    environments TEXT     NOT NULL DEFAULT '{}',
    job_id       TEXT     NOT NULL DEFAULT '',
    workspace    TEXT     NOT NULL,
    expected_outputs TEXT NOT NULL DEFAULT '{}',
    created_at   TIMESTAMPTZ NOT NULL,
    deleted_at   TIMESTAMPTZ,
    UNIQUE (owner_id, name, run)
);
CREATE INDEX reana_workflows_owner_created ON reana_workflows(owner_id, created_at);

CREATE TABLE reana_workflow_steps (
    workflow_id  TEXT     NOT NULL REFERENCES reana_workflows(id) ON DELETE CASCADE,
    position     INTEGER  NOT NULL,
    name         TEXT     NOT NULL,
    status       TEXT     NOT NULL,
    job_id       TEXT     NOT NULL DEFAULT '',
    command      TEXT     NOT NULL DEFAULT '',
    container_id TEXT     NOT NULL DEFAULT '',
    exit_code    INTEGER,
    started_at   TIMESTAMPTZ,
    finished_at  TIMESTAMPTZ,
    PRIMARY KEY (workflow_id, position)
);

CREATE TABLE reana_secrets (
    owner_id   BIGINT   NOT NULL REFERENCES users(id),
    name       TEXT     NOT NULL,
    type       TEXT     NOT NULL,
    sealed     TEXT     NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (owner_id, name)
);

CREATE TABLE reana_cache (
    owner_id    BIGINT   NOT NULL REFERENCES users(id),
    cache_key   TEXT     NOT NULL,
    workflow_id TEXT     NOT NULL,
    step        TEXT     NOT NULL,
    outputs     TEXT     NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (owner_id, cache_key)
);
