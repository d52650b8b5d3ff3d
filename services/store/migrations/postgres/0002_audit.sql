-- ruta PostgreSQL schema, version 2: the audit chain and its checkpoints
-- (DESIGN.md section 5). Conventions as in 0001_initial.sql; hashes and
-- signatures are raw bytes (BLOB).

-- Every call, allowed or denied, one row, chained:
--   hash = SHA-256(hash of idx-1 || canonical encoding of this row)
-- (core/audit.h defines the encoding; the first row chains from 32 zero
-- bytes). No identifier of a child is ever written here: subject is a case or
-- transfer id (letters only), principal a certificate identity.
CREATE TABLE audit_log (
  idx       BIGINT  NOT NULL PRIMARY KEY CHECK (idx >= 0),
  at_us     BIGINT  NOT NULL,
  principal TEXT COLLATE "C"    NOT NULL,
  clerk     TEXT COLLATE "C"    NOT NULL,
  method    TEXT COLLATE "C"    NOT NULL,
  subject   TEXT COLLATE "C"    NOT NULL,
  outcome   BIGINT  NOT NULL,
  hash      BYTEA    NOT NULL CHECK (octet_length(hash) = 32)
);

-- Append-only through this schema. Someone with the table owner's role can
-- drop these triggers; the chain and the peers' checkpoints are what detect
-- that.
CREATE FUNCTION audit_log_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit records are append-only';
END;
$$;
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
  FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
  FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
  FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();

-- The longest verified checkpoint each peer region sent of its own chain.
CREATE TABLE audit_peer_checkpoints (
  region       TEXT COLLATE "C"    NOT NULL PRIMARY KEY,
  length       BIGINT  NOT NULL CHECK (length >= 0),
  head_hash    BYTEA    NOT NULL,
  signed_at_us BIGINT  NOT NULL,
  signature    BYTEA    NOT NULL
);

-- The last checkpoint of this node's chain sent to each peer (a local copy;
-- the peer's copy is the one that counts).
CREATE TABLE audit_sent_checkpoints (
  peer_region  TEXT COLLATE "C"    NOT NULL PRIMARY KEY,
  region       TEXT COLLATE "C"    NOT NULL,
  length       BIGINT  NOT NULL CHECK (length >= 0),
  head_hash    BYTEA    NOT NULL,
  signed_at_us BIGINT  NOT NULL,
  signature    BYTEA    NOT NULL
);
