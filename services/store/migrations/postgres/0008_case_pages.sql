-- ruta PostgreSQL schema, version 8: fewer B-tree pages written per case change.
--
-- A case id is random, so every index entry keyed by it lands on its own
-- leaf page, each written back (and, the first time after a checkpoint,
-- logged whole in the WAL) per change. Two of them per new case were
-- redundant (tests/bench/README.md, "OpenCase"):
--
-- * case_history kept a copy of the current version, which is already the
--   row in cases. It now holds the superseded versions only: a change moves
--   the version it replaces there (services/store/sql/txn.cc, PutCase), and
--   the readers of a version look in both tables (the SQLite schema makes
--   the same change: the two backends share that code).
-- * cases_by_owner_region served ListCases of a region in case_id order;
--   the primary key gives that order, and a node's cases belong to at most
--   the two regions, so the scan filters instead of a second tree.

DELETE FROM case_history
WHERE (case_id, version) IN (SELECT case_id, version FROM cases);

DROP INDEX cases_by_owner_region;
