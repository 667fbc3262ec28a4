-- reehub on several machines (issue 12): the log of a job that runs, as its
-- worker writes it, in chunks at their byte offsets (pos) in the log, so that
-- every instance reads (and follows) it live. The chunks of a job go once its
-- log is a blob (jobs.log_digest).
CREATE TABLE job_log_chunks (
    job_id TEXT   NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
    pos    BIGINT NOT NULL,
    data   BLOB   NOT NULL,
    PRIMARY KEY (job_id, pos)
);
