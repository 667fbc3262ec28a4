-- Operators' tools (issue 12): the id of the API request (X-Request-Id) that
-- submitted a job, so that its log and the access log can be matched.
ALTER TABLE jobs ADD COLUMN request_id TEXT NOT NULL DEFAULT '';
