-- Storage that does not grow without bound (service/job gc.go): keep marks,
-- tombstones of deleted jobs, and the instance id that names this database.
ALTER TABLE jobs ADD COLUMN keep BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE jobs ADD COLUMN keep_image BOOLEAN NOT NULL DEFAULT FALSE;
CREATE INDEX jobs_state_finished ON jobs(state, finished_at);

-- Every deleted job leaves a tombstone, also one deleted by hand: garbage
-- collection removes Podman resources (images, networks) only of jobs that
-- this database says are gone, never of ids it does not know (another
-- instance's, sharing the Podman service).
CREATE TABLE job_tombstones (
    id         TEXT        PRIMARY KEY,
    family     TEXT        NOT NULL,
    deleted_at TIMESTAMPTZ NOT NULL
);
CREATE FUNCTION jobs_tombstone() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN INSERT INTO job_tombstones (id, family, deleted_at) VALUES (OLD.id, OLD.family, now()) ON CONFLICT (id) DO UPDATE SET deleted_at = EXCLUDED.deleted_at; RETURN OLD; END $$;
CREATE TRIGGER jobs_tombstone AFTER DELETE ON jobs FOR EACH ROW EXECUTE FUNCTION jobs_tombstone();

-- One row: the id of the instance (all reehub processes sharing this
-- database are one instance) that holds blobs in a shared blob store.
CREATE TABLE reehub_instance (
    id         TEXT        PRIMARY KEY,
    created_at TIMESTAMPTZ NOT NULL
);
