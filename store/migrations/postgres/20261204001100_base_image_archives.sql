-- reehub on several machines (issue 12): the compressed docker-archive of a
-- catalogue base image, per image ID, that a worker host saved in the blob
-- store when it first recorded with it, so that a host whose Podman lacks the
-- image loads it from there instead of building it. digest names the blob.
CREATE TABLE base_image_archives (
    name       TEXT   NOT NULL,
    image_id   TEXT   NOT NULL,
    digest     TEXT   NOT NULL,
    size       BIGINT NOT NULL,
    crc32      BIGINT NOT NULL,
    host       TEXT   NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (name, image_id)
);
