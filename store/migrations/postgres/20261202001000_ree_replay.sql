-- Whether a processed replay rebuilt the recorded image ID (NULL for
-- recordings, SBOM builds and replays that have not finished).
ALTER TABLE ree_processes ADD COLUMN identical BOOLEAN;
