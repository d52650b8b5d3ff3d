-- ruta SQLite schema, version 6: reserved.
--
-- Version 6 belongs to the partners migration of a parallel branch
-- (0006_partners.sql); this empty placeholder keeps the versions contiguous
-- on the dash branch. Drop this file when merging that branch's 0006
-- (nothing here to keep).
SELECT 1;
