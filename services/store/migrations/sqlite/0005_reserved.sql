-- ruta SQLite schema, version 5: reserved.
--
-- Version 5 belongs to the activities migration of a parallel branch; this
-- empty placeholder keeps the versions contiguous on the partner branch.
-- Drop this file when merging that branch's 0005 (nothing here to keep).
SELECT 1;
