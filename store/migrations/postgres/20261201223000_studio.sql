-- The Studio family (service/studio): appliances cloned from templates, Debian
-- repositories, overlay files, the users' own .deb packages and builds. The two
-- templates are appliances without owner (ids 1 and 2), as in Studio, where
-- clone_from names a template's appliance id.
CREATE TABLE studio_appliances (
    id             BIGSERIAL PRIMARY KEY,
    uuid           TEXT     NOT NULL UNIQUE,
    owner_id       BIGINT   REFERENCES users(id) ON DELETE CASCADE,
    name           TEXT     NOT NULL,
    description    TEXT     NOT NULL DEFAULT '',
    arch           TEXT     NOT NULL,
    base_image     TEXT     NOT NULL,
    basesystem     TEXT     NOT NULL,
    parent_id      INTEGER,
    parent_name    TEXT     NOT NULL DEFAULT '',
    packages       TEXT     NOT NULL DEFAULT '[]',
    patterns       TEXT     NOT NULL DEFAULT '[]',
    repository_ids TEXT     NOT NULL DEFAULT '[]',
    created_at     TIMESTAMPTZ NOT NULL,
    updated_at     TIMESTAMPTZ NOT NULL
);
CREATE INDEX studio_appliances_owner ON studio_appliances(owner_id);
INSERT INTO studio_appliances (uuid, owner_id, name, description, arch, base_image, basesystem, created_at, updated_at) VALUES
  ('5d1c6b0e-3f0a-4c1e-9a59-2d1b7f3e0a01', NULL, 'Debian 12, just enough OS', 'A minimal Debian 12 (bookworm) system (debootstrap minbase).', 'x86_64', 'debian_bookworm', 'bookworm', '2026-12-01 00:00:00', '2026-12-01 00:00:00'),
  ('5d1c6b0e-3f0a-4c1e-9a59-2d1b7f3e0a02', NULL, 'Python 3.11', 'Debian 12 with Python 3.11, venv and pip.', 'x86_64', 'python_3_11', 'bookworm', '2026-12-01 00:00:00', '2026-12-01 00:00:00');

CREATE TABLE studio_repositories (
    id          BIGSERIAL PRIMARY KEY,
    owner_id    BIGINT   REFERENCES users(id) ON DELETE CASCADE,
    name        TEXT     NOT NULL,
    type        TEXT     NOT NULL,
    base_system TEXT     NOT NULL,
    base_url    TEXT     NOT NULL,
    suite       TEXT     NOT NULL,
    components  TEXT     NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL
);
INSERT INTO studio_repositories (owner_id, name, type, base_system, base_url, suite, components, created_at) VALUES
  (NULL, 'Debian bookworm', 'deb', 'bookworm', 'http://deb.debian.org/debian', 'bookworm', 'main contrib non-free-firmware', '2026-12-01 00:00:00'),
  (NULL, 'Debian bookworm updates', 'deb', 'bookworm', 'http://deb.debian.org/debian', 'bookworm-updates', 'main contrib non-free-firmware', '2026-12-01 00:00:00'),
  (NULL, 'Debian bookworm security', 'deb', 'bookworm', 'http://deb.debian.org/debian-security', 'bookworm-security', 'main contrib non-free-firmware', '2026-12-01 00:00:00');

CREATE TABLE studio_files (
    id           BIGSERIAL PRIMARY KEY,
    appliance_id BIGINT   NOT NULL REFERENCES studio_appliances(id) ON DELETE CASCADE,
    filename     TEXT     NOT NULL,
    path         TEXT     NOT NULL,
    owner        TEXT     NOT NULL,
    grp          TEXT     NOT NULL,
    permissions  TEXT     NOT NULL,
    enabled      BOOLEAN  NOT NULL,
    size         BIGINT   NOT NULL,
    md5          TEXT     NOT NULL,
    digest       TEXT     NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL
);
CREATE INDEX studio_files_appliance ON studio_files(appliance_id);

CREATE TABLE studio_rpms (
    id           BIGSERIAL PRIMARY KEY,
    owner_id     BIGINT   NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    filename     TEXT     NOT NULL,
    base_system  TEXT     NOT NULL,
    size         BIGINT   NOT NULL,
    md5          TEXT     NOT NULL,
    sha256       TEXT     NOT NULL,
    digest       TEXT     NOT NULL,
    package      TEXT     NOT NULL,
    version      TEXT     NOT NULL,
    architecture TEXT     NOT NULL,
    control      TEXT     NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL
);
CREATE INDEX studio_rpms_owner ON studio_rpms(owner_id);

CREATE TABLE studio_builds (
    id              BIGSERIAL PRIMARY KEY,
    appliance_id    BIGINT   NOT NULL REFERENCES studio_appliances(id) ON DELETE CASCADE,
    owner_id        BIGINT   NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    job_id          TEXT     NOT NULL,
    process_id      TEXT     NOT NULL DEFAULT '',
    version         TEXT     NOT NULL,
    image_type      TEXT     NOT NULL,
    state           TEXT     NOT NULL,
    image_id        TEXT     NOT NULL DEFAULT '',
    digest          TEXT     NOT NULL DEFAULT '',
    image_archive   TEXT     NOT NULL DEFAULT '',
    size            BIGINT   NOT NULL DEFAULT 0,
    compressed_size BIGINT   NOT NULL DEFAULT 0,
    md5             TEXT     NOT NULL DEFAULT '',
    sha1            TEXT     NOT NULL DEFAULT '',
    sha256          TEXT     NOT NULL DEFAULT '',
    installed       TEXT     NOT NULL DEFAULT '[]',
    created_at      TIMESTAMPTZ NOT NULL,
    completed_at    TIMESTAMPTZ
);
CREATE INDEX studio_builds_appliance ON studio_builds(appliance_id);
