-- ruta SQLite schema, version 2: the audit chain and its checkpoints
-- (DESIGN.md section 5). Conventions as in 0001_initial.sql; hashes and
-- signatures are raw bytes (BLOB).

-- Every call, allowed or denied, one row, chained:
--   hash = SHA-256(hash of idx-1 || canonical encoding of this row)
-- (core/audit.h defines the encoding; the first row chains from 32 zero
-- bytes). No identifier of a child is ever written here: subject is a case or
-- transfer id (letters only), principal a certificate identity.
CREATE TABLE audit_log (
  idx       INTEGER NOT NULL PRIMARY KEY CHECK (idx >= 0),
  at_us     INTEGER NOT NULL,
  principal TEXT    NOT NULL,
  clerk     TEXT    NOT NULL,
  method    TEXT    NOT NULL,
  subject   TEXT    NOT NULL,
  outcome   INTEGER NOT NULL,
  hash      BLOB    NOT NULL CHECK (length(hash) = 32)
) STRICT;

-- Append-only through this schema. Someone with the file can drop these
-- triggers; the chain and the peers' checkpoints are what detect that.
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
  SELECT RAISE(ABORT, 'audit records are append-only');
END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
  SELECT RAISE(ABORT, 'audit records are append-only');
END;

-- The longest verified checkpoint each peer region sent of its own chain.
CREATE TABLE audit_peer_checkpoints (
  region       TEXT    NOT NULL PRIMARY KEY,
  length       INTEGER NOT NULL CHECK (length >= 0),
  head_hash    BLOB    NOT NULL,
  signed_at_us INTEGER NOT NULL,
  signature    BLOB    NOT NULL
) STRICT, WITHOUT ROWID;

-- The last checkpoint of this node's chain sent to each peer (a local copy;
-- the peer's copy is the one that counts).
CREATE TABLE audit_sent_checkpoints (
  peer_region  TEXT    NOT NULL PRIMARY KEY,
  region       TEXT    NOT NULL,
  length       INTEGER NOT NULL CHECK (length >= 0),
  head_hash    BLOB    NOT NULL,
  signed_at_us INTEGER NOT NULL,
  signature    BLOB    NOT NULL
) STRICT, WITHOUT ROWID;
