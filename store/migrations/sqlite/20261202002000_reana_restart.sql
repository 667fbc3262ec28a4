-- REANA's restarts (service/workflow): a restart of run NAME.N is a new run
-- NAME.N.M (run_number_major N, run_number_minor M, as reana-db numbers them)
-- sharing the workspace. SQLite cannot drop the UNIQUE (owner_id, name, run)
-- of reana_workflows, so the table is rebuilt; its steps are kept aside first,
-- because dropping a parent table with foreign keys on deletes its children.
CREATE TABLE reana_workflows_restart (
    id           TEXT     PRIMARY KEY,
    owner_id     INTEGER   NOT NULL REFERENCES users(id),
    name         TEXT     NOT NULL,
    run          INTEGER  NOT NULL,
    run_minor    INTEGER  NOT NULL DEFAULT 0,
    spec         TEXT     NOT NULL,
    parameters   TEXT     NOT NULL DEFAULT '{}',
    options      TEXT     NOT NULL DEFAULT '{}',
    environments TEXT     NOT NULL DEFAULT '{}',
    job_id       TEXT     NOT NULL DEFAULT '',
    workspace    TEXT     NOT NULL,
    expected_outputs TEXT NOT NULL DEFAULT '{}',
    created_at   DATETIME NOT NULL,
    deleted_at   DATETIME,
    UNIQUE (owner_id, name, run, run_minor)
);
INSERT INTO reana_workflows_restart (id, owner_id, name, run, spec, parameters, options, environments, job_id, workspace, expected_outputs, created_at, deleted_at)
    SELECT id, owner_id, name, run, spec, parameters, options, environments, job_id, workspace, expected_outputs, created_at, deleted_at FROM reana_workflows;
CREATE TABLE reana_workflow_steps_kept AS SELECT * FROM reana_workflow_steps;
DROP TABLE reana_workflow_steps;
DROP TABLE reana_workflows;
ALTER TABLE reana_workflows_restart RENAME TO reana_workflows;
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
    started_at   DATETIME,
    finished_at  DATETIME,
    PRIMARY KEY (workflow_id, position)
);
INSERT INTO reana_workflow_steps (workflow_id, position, name, status, job_id, command, container_id, exit_code, started_at, finished_at)
    SELECT workflow_id, position, name, status, job_id, command, container_id, exit_code, started_at, finished_at FROM reana_workflow_steps_kept;
DROP TABLE reana_workflow_steps_kept;
