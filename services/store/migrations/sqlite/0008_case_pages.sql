-- ruta SQLite schema, version 8: fewer B-tree pages written per case change.
--
-- A case id is random, so every row keyed by it lands on its own leaf page,
-- and WAL logs (and the checkpoint copies) whole pages: each random-key
-- insert costs a 4 KiB page per change. Two of them per new case were
-- redundant (tests/bench/README.md, "OpenCase"):
--
-- * case_history kept a copy of the current version, which is already the
--   row in cases. It now holds the superseded versions only: a change moves
--   the version it replaces there (services/store/sql/txn.cc, PutCase), and
--   the readers of a version look in both tables.
-- * cases_by_owner_region served ListCases of a region in case_id order;
--   the primary key gives that order, and a node's cases belong to at most
--   the two regions, so the scan filters instead of a second tree.

DELETE FROM case_history
WHERE (case_id, version) IN (SELECT case_id, version FROM cases);

DROP INDEX cases_by_owner_region;
