-- ruta SQLite schema, version 3: transfers, services and the federation
-- outbox and inbox (DESIGN.md section 7). Conventions as in 0001_initial.sql;
-- dates are TEXT 'YYYY-MM-DD' ('' when not set).

-- Current state of each transfer this node is a party to: the request and
-- every fact learned (core/transfer.h). version = number of facts.
CREATE TABLE transfers (
  transfer_id          TEXT    NOT NULL PRIMARY KEY,
  case_id              TEXT    NOT NULL,
  from_region          TEXT    NOT NULL,
  to_region            TEXT    NOT NULL,
  destination_province TEXT    NOT NULL,
  requested_services   TEXT    NOT NULL,  -- e.g. "1,3"
  state                INTEGER NOT NULL,
  requested_on         TEXT    NOT NULL,
  accepted_on          TEXT    NOT NULL,
  departed_on          TEXT    NOT NULL,
  received_on          TEXT    NOT NULL,
  rejected             INTEGER NOT NULL CHECK (rejected IN (0, 1)),
  reject_reason        INTEGER NOT NULL,
  reject_note          TEXT    NOT NULL,
  cancelled            INTEGER NOT NULL CHECK (cancelled IN (0, 1)),
  cancel_note          TEXT    NOT NULL,
  version              INTEGER NOT NULL CHECK (version >= 1),
  updated_at_us        INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
CREATE INDEX transfers_by_from ON transfers (from_region, transfer_id);
CREATE INDEX transfers_by_to ON transfers (to_region, transfer_id);
CREATE INDEX transfers_by_case ON transfers (case_id, transfer_id);

-- Every version of every transfer (replays of idempotent requests).
CREATE TABLE transfer_history (
  transfer_id          TEXT    NOT NULL,
  version              INTEGER NOT NULL,
  case_id              TEXT    NOT NULL,
  from_region          TEXT    NOT NULL,
  to_region            TEXT    NOT NULL,
  destination_province TEXT    NOT NULL,
  requested_services   TEXT    NOT NULL,
  state                INTEGER NOT NULL,
  requested_on         TEXT    NOT NULL,
  accepted_on          TEXT    NOT NULL,
  departed_on          TEXT    NOT NULL,
  received_on          TEXT    NOT NULL,
  rejected             INTEGER NOT NULL,
  reject_reason        INTEGER NOT NULL,
  reject_note          TEXT    NOT NULL,
  cancelled            INTEGER NOT NULL,
  cancel_note          TEXT    NOT NULL,
  updated_at_us        INTEGER NOT NULL,
  PRIMARY KEY (transfer_id, version)
) STRICT, WITHOUT ROWID;

-- Commit-ordered log of transfer changes: the cursor of WatchTransfers.
CREATE TABLE transfer_changes (
  position    INTEGER PRIMARY KEY,  -- rowid: max + 1, no counter row
  transfer_id TEXT    NOT NULL,
  version     INTEGER NOT NULL,
  from_region TEXT    NOT NULL,
  to_region   TEXT    NOT NULL
) STRICT;

-- Current version of each service record of the cases this node holds.
CREATE TABLE services (
  service_id    TEXT    NOT NULL PRIMARY KEY,
  case_id       TEXT    NOT NULL,
  type          INTEGER NOT NULL,
  provider      TEXT    NOT NULL,
  status        INTEGER NOT NULL,
  start_year    INTEGER NOT NULL,
  start_month   INTEGER NOT NULL,
  end_year      INTEGER NOT NULL,
  end_month     INTEGER NOT NULL,
  version       INTEGER NOT NULL CHECK (version >= 1),
  author_region TEXT    NOT NULL,
  updated_at_us INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
CREATE INDEX services_by_case ON services (case_id, service_id);

CREATE TABLE service_history (
  service_id    TEXT    NOT NULL,
  version       INTEGER NOT NULL,
  author_region TEXT    NOT NULL,
  case_id       TEXT    NOT NULL,
  type          INTEGER NOT NULL,
  provider      TEXT    NOT NULL,
  status        INTEGER NOT NULL,
  start_year    INTEGER NOT NULL,
  start_month   INTEGER NOT NULL,
  end_year      INTEGER NOT NULL,
  end_month     INTEGER NOT NULL,
  updated_at_us INTEGER NOT NULL,
  PRIMARY KEY (service_id, version, author_region)
) STRICT, WITHOUT ROWID;

-- Regions a case has been shared with (it was the subject of a transfer
-- between them): the destinations of its later changes.
CREATE TABLE case_shares (
  case_id TEXT NOT NULL,
  region  TEXT NOT NULL,
  PRIMARY KEY (case_id, region)
) STRICT, WITHOUT ROWID;

-- Transactional outbox. A change appends its event here, unstamped, in its
-- own transaction (writers never touch a shared counter: id is the rowid).
-- The relay alone stamps events, in id order, with the next sequence of
-- their destination's stream and the exact bytes it signs and sends.
CREATE TABLE outbox (
  id              INTEGER PRIMARY KEY,
  destination     TEXT    NOT NULL,
  case_id         TEXT    NOT NULL,
  payload         BLOB    NOT NULL,
  committed_at_us INTEGER NOT NULL,
  sequence        INTEGER,            -- NULL until stamped
  bytes           BLOB                -- NULL until stamped
) STRICT;
CREATE UNIQUE INDEX outbox_stream ON outbox (destination, sequence)
  WHERE sequence IS NOT NULL;
CREATE INDEX outbox_unstamped ON outbox (destination, id)
  WHERE sequence IS NULL;

-- Highest sequence each peer acknowledged as durably applied.
CREATE TABLE outbox_acks (
  destination     TEXT    NOT NULL PRIMARY KEY,
  applied_through INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

-- Inbox: per origin, the highest sequence applied (gapless), moved in the
-- transaction that applies the events.
CREATE TABLE inbox_positions (
  origin          TEXT    NOT NULL PRIMARY KEY,
  applied_through INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

-- Every batch applied, with its signature and the exact event bytes: proof
-- of what the peer sent.
CREATE TABLE inbox_batches (
  origin          TEXT    NOT NULL,
  first_sequence  INTEGER NOT NULL,
  last_sequence   INTEGER NOT NULL,
  signature       BLOB    NOT NULL,
  signing_key_id  TEXT    NOT NULL,
  received_at_us  INTEGER NOT NULL,
  PRIMARY KEY (origin, last_sequence)
) STRICT, WITHOUT ROWID;
CREATE TABLE inbox_events (
  origin   TEXT    NOT NULL,
  sequence INTEGER NOT NULL,
  bytes    BLOB    NOT NULL,
  PRIMARY KEY (origin, sequence)
) STRICT, WITHOUT ROWID;
