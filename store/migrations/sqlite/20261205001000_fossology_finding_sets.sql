-- FOSSology findings in sets (issue 8's bench): a scan stores one row per
-- agent and batch of files, its findings a JSON array, instead of one row per
-- finding. A 14,000-file tarball has 35,000 findings; as rows they cost 12 µs
-- each to insert on SQLite, a tenth of the scan's CPU. Every reader reads the
-- findings of a whole upload (but some agents), and a step replaces those of
-- its agents, so nothing needs a finding as a row. The array's objects have
-- the old columns as keys; the rows already stored move into sets.
CREATE TABLE fossology_finding_sets (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    upload_id INTEGER NOT NULL REFERENCES fossology_uploads(id) ON DELETE CASCADE,
    agent     TEXT    NOT NULL,
    findings  TEXT    NOT NULL
);
CREATE INDEX fossology_finding_sets_upload ON fossology_finding_sets(upload_id, agent);

INSERT INTO fossology_finding_sets (upload_id, agent, findings)
SELECT upload_id, agent, json_group_array(json_object('path', path, 'sha1', sha1, 'type', type, 'value', value,
       'expression', expression, 'rule', rule, 'start_line', start_line, 'end_line', end_line) ORDER BY id)
FROM fossology_findings GROUP BY upload_id, agent ORDER BY MIN(id);

DROP TABLE fossology_findings;
