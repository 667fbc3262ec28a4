-- The FOSSology family, second part: the metadata of package containers whose
-- header is not among their entries (an .rpm's name, version, license...) as
-- JSON on their tree item, and the licenses a bulk rule removes (FOSSology's
-- bulk REMOVE action) beside those it adds.
ALTER TABLE fossology_items ADD COLUMN pkg_info TEXT NOT NULL DEFAULT '';
ALTER TABLE fossology_bulks ADD COLUMN removes TEXT NOT NULL DEFAULT '';
