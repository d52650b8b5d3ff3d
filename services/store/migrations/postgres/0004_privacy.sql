-- ruta PostgreSQL schema, version 4: person links, erasure and node settings
-- (DESIGN.md section 6). Conventions as in 0001_initial.sql.

-- Person refs that were joined into another (MergePersons, or an older key
-- version's ref re-linked to the current one). `root` is the ref the cases
-- now carry; every alias points straight at its root (no chains).
CREATE TABLE person_aliases (
  ref  TEXT COLLATE "C" NOT NULL PRIMARY KEY,
  root TEXT COLLATE "C" NOT NULL
);
CREATE INDEX person_aliases_by_root ON person_aliases (root, ref);

-- Cases erased (EraseCase or the retention purge): only the pseudonymous id,
-- so that a late event cannot bring the case back.
CREATE TABLE erased_cases (
  case_id      TEXT COLLATE "C"    NOT NULL PRIMARY KEY,
  owner_region TEXT COLLATE "C"    NOT NULL,
  erased_at_us BIGINT  NOT NULL
);

-- Small persistent settings of the node (e.g. the current linkage key
-- version).
CREATE TABLE node_settings (
  name  TEXT COLLATE "C" NOT NULL PRIMARY KEY,
  value TEXT COLLATE "C" NOT NULL
);

-- Received events now name their case, so that an erasure finds them; an
-- erased event keeps only its SHA-256 (`hash`), which is what the batch
-- signature covers, and loses its bytes.
ALTER TABLE inbox_events ADD COLUMN case_id TEXT COLLATE "C" NOT NULL DEFAULT '';
ALTER TABLE inbox_events ADD COLUMN hash BYTEA;
CREATE INDEX inbox_events_by_case ON inbox_events (case_id)
  WHERE case_id <> '';

-- The same for sent events: an erased, acknowledged event keeps its hash.
-- `erase_pending` marks the sent events of an erased case not yet reduced to
-- their hash (the peer had not acknowledged them); the partial index keeps
-- the check made on every acknowledgement to those few rows.
ALTER TABLE outbox ADD COLUMN hash BYTEA;
ALTER TABLE outbox ADD COLUMN erase_pending BIGINT  NOT NULL DEFAULT 0;
CREATE INDEX outbox_by_case ON outbox (case_id);
CREATE INDEX outbox_erase_pending ON outbox (destination, sequence)
  WHERE erase_pending = 1;
