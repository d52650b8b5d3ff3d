-- ruta SQLite schema, version 9: fewer B-tree pages written per transfer
-- change, as 0008_case_pages.sql did for cases.
--
-- A transfer id is random, so every row keyed by it lands on its own leaf
-- page, and WAL logs (and the checkpoint copies) whole pages. Three of the
-- six random-key trees a new transfer wrote to were redundant
-- (tests/bench/README.md, "RequestTransfer"):
--
-- * transfer_history kept a copy of the current version, which is already
--   the row in transfers. It now holds the superseded versions only: a change
--   moves the version it replaces there (services/store/sql/federation_txn.cc,
--   PutTransfer), and the readers of a version (FindTransferVersion, the
--   transfer change feed) look in both tables.
-- * transfers_by_from and transfers_by_to served ListTransfers of a region in
--   transfer_id order; the primary key gives that order, and every transfer
--   is between the two regions, so the scan filters instead.

DELETE FROM transfer_history
WHERE (transfer_id, version) IN (SELECT transfer_id, version FROM transfers);

DROP INDEX transfers_by_from;
DROP INDEX transfers_by_to;
