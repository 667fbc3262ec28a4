-- The ViCE registry (api/vice.yaml): environments with sealed credentials, images with
-- their file (a blob), provenance and SBOM, deployments (a job of the engine each), and the
-- manifests of the OCI endpoint at /v2/ (their blobs are in the blob store).
CREATE TABLE registry_environments (
    id              TEXT     PRIMARY KEY,
    owner_id        INTEGER   NOT NULL REFERENCES users(id),
    title           TEXT     NOT NULL DEFAULT '',
    location        TEXT     NOT NULL DEFAULT '',
    username        TEXT     NOT NULL DEFAULT '',
    password_sealed TEXT     NOT NULL DEFAULT '',
    specifics       TEXT     NOT NULL DEFAULT '{}',
    rt_type         TEXT     NOT NULL DEFAULT '',
    rt_software     TEXT     NOT NULL DEFAULT '',
    rt_version      TEXT     NOT NULL DEFAULT '',
    ml_type         TEXT     NOT NULL DEFAULT '',
    ml_software     TEXT     NOT NULL DEFAULT '',
    ml_version      TEXT     NOT NULL DEFAULT '',
    created_at      DATETIME NOT NULL
);
CREATE INDEX registry_environments_owner ON registry_environments(owner_id, created_at);

CREATE TABLE registry_images (
    id                    TEXT     PRIMARY KEY,
    owner_id              INTEGER   NOT NULL REFERENCES users(id),
    title                 TEXT     NOT NULL DEFAULT '',
    image_type            TEXT     NOT NULL DEFAULT '',
    content_type          TEXT     NOT NULL DEFAULT '',
    imported              BOOLEAN  NOT NULL DEFAULT FALSE,
    origin                TEXT     NOT NULL DEFAULT '{}',
    environment_reference TEXT     NOT NULL DEFAULT '',
    specifics             TEXT     NOT NULL DEFAULT '{}',
    file_digest           TEXT     NOT NULL DEFAULT '',
    file_size             INTEGER   NOT NULL DEFAULT 0,
    file_format           TEXT     NOT NULL DEFAULT '',
    podman_ref            TEXT     NOT NULL DEFAULT '',
    sbom_digest           TEXT     NOT NULL DEFAULT '',
    packages              TEXT     NOT NULL DEFAULT '',
    process_id            TEXT     NOT NULL DEFAULT '',
    created_at            DATETIME NOT NULL,
    -- stored_at is when the file or the registered image's blobs were last stored.
    stored_at             DATETIME
);
CREATE INDEX registry_images_owner ON registry_images(owner_id, created_at);
CREATE INDEX registry_images_process ON registry_images(process_id);

CREATE TABLE registry_deployments (
    id             TEXT     PRIMARY KEY,
    owner_id       INTEGER   NOT NULL REFERENCES users(id),
    title          TEXT     NOT NULL DEFAULT '',
    image_id       TEXT     NOT NULL,
    environment_id TEXT     NOT NULL,
    job_id         TEXT     NOT NULL DEFAULT '',
    container_id   TEXT     NOT NULL DEFAULT '',
    state          TEXT     NOT NULL DEFAULT 'pending',
    exit_code      INTEGER  NOT NULL DEFAULT 0,
    message        TEXT     NOT NULL DEFAULT '',
    created_at     DATETIME NOT NULL
);
CREATE INDEX registry_deployments_owner ON registry_deployments(owner_id, created_at);

-- The OCI endpoint: a manifest per (repository, reference), the reference a digest or a
-- tag (a tag row repeats the body of its digest); subject and artifact_type answer the
-- referrers API. A blob belongs to a repository through a link; the content is in the blob store.
CREATE TABLE registry_manifests (
    repo          TEXT     NOT NULL,
    ref           TEXT     NOT NULL,
    digest        TEXT     NOT NULL,
    media_type    TEXT     NOT NULL,
    artifact_type TEXT     NOT NULL DEFAULT '',
    subject       TEXT     NOT NULL DEFAULT '',
    body          TEXT     NOT NULL,
    created_at    DATETIME NOT NULL,
    PRIMARY KEY (repo, ref)
);
CREATE INDEX registry_manifests_subject ON registry_manifests(repo, subject);

CREATE TABLE registry_blob_links (
    repo       TEXT     NOT NULL,
    digest     TEXT     NOT NULL,
    created_at DATETIME NOT NULL,
    PRIMARY KEY (repo, digest)
);

-- The registry's blob copy of an image is its record (Podman is a cache). An image a process
-- registered goes with its process (DELETE /api/process, retention); an image takes its OCI
-- manifests and blob links along, so that garbage collection frees the blobs nothing else holds.
CREATE TRIGGER registry_images_of_deleted_jobs AFTER DELETE ON jobs BEGIN DELETE FROM registry_images WHERE process_id <> '' AND process_id = OLD.id; END;
CREATE TRIGGER registry_images_forget_repo AFTER DELETE ON registry_images BEGIN DELETE FROM registry_manifests WHERE repo = OLD.id; DELETE FROM registry_blob_links WHERE repo = OLD.id; END;
