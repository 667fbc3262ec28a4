-- REANA's restarts (service/workflow): a restart of run NAME.N is a new run
-- NAME.N.M (run_number_major N, run_number_minor M, as reana-db numbers them)
-- sharing the workspace.
ALTER TABLE reana_workflows ADD COLUMN run_minor INTEGER NOT NULL DEFAULT 0;
ALTER TABLE reana_workflows DROP CONSTRAINT reana_workflows_owner_id_name_run_key;
ALTER TABLE reana_workflows ADD CONSTRAINT reana_workflows_owner_id_name_run_run_minor_key UNIQUE (owner_id, name, run, run_minor);
