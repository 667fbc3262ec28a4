-- reehub on several machines (issue 12): the worker host that runs (or last
-- ran) each job's attempt, and the clean-ups owed by a host: an attempt
-- interrupted on one host and retried elsewhere leaves its containers and
-- networks on the first host's Podman, which only that host can remove.
ALTER TABLE jobs ADD COLUMN host TEXT NOT NULL DEFAULT '';
CREATE TABLE job_host_cleanups (
    host TEXT NOT NULL,
    job_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    attempt INTEGER NOT NULL,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (host, job_id)
);
