-- The registry keeps an uploaded docker-image as its blobs and serves the
-- OCI archive built over them (the same bytes for the same manifest):
-- archive_digest is that archive's sha256, so that the image's digest and
-- size describe the file a download gets.
ALTER TABLE registry_images ADD COLUMN archive_digest TEXT NOT NULL DEFAULT '';
