-- ruta SQLite schema, version 1.
--
-- Applied once, inside one transaction, by the store's migration runner
-- (services/store/sqlite/migrations.cc), which records it in
-- schema_migrations. Never edit a released migration: add a new file.
--
-- Conventions: every table is STRICT; times are INTEGER microseconds since
-- the Unix epoch (absl::ToUnixMicros) in columns suffixed _us; enumerations
-- are INTEGER values equal to the proto enum values; lists are TEXT,
-- comma-separated, empty string for an empty list.

-- Current version of each case: one row per case, with one column per domain
-- field so that filters and indexes work.
CREATE TABLE cases (
  case_id                 TEXT    NOT NULL PRIMARY KEY,
  person_ref              TEXT    NOT NULL,
  kind                    INTEGER NOT NULL,
  owner_region            TEXT    NOT NULL,
  stage                   INTEGER NOT NULL,
  care_stage              INTEGER NOT NULL,
  closed_reason           INTEGER NOT NULL,
  age_band                INTEGER NOT NULL,
  sex                     INTEGER NOT NULL,
  origin_province         TEXT    NOT NULL,
  exploitation_forms      TEXT    NOT NULL,  -- e.g. "1,3"
  setting                 INTEGER NOT NULL,
  recruitment_means       INTEGER NOT NULL,
  identified_year         INTEGER NOT NULL,
  identified_month        INTEGER NOT NULL,
  legal_basis             INTEGER NOT NULL,
  consent_partner_sharing INTEGER NOT NULL
      CHECK (consent_partner_sharing IN (0, 1)),
  referrals               TEXT    NOT NULL,  -- partner ids, e.g. "tdh,caritas"
  version                 INTEGER NOT NULL CHECK (version >= 1),
  opened_at_us            INTEGER NOT NULL,
  updated_at_us           INTEGER NOT NULL,
  opened_by               TEXT    NOT NULL
) STRICT, WITHOUT ROWID;

-- FindPerson: every case of a child.
CREATE INDEX cases_by_person_ref ON cases (person_ref, case_id);
-- ListCases of one region, paged by case_id.
CREATE INDEX cases_by_owner_region ON cases (owner_region, case_id);

-- Every version of every case, including the current one.
CREATE TABLE case_history (
  case_id                 TEXT    NOT NULL REFERENCES cases (case_id),
  version                 INTEGER NOT NULL CHECK (version >= 1),
  person_ref              TEXT    NOT NULL,
  kind                    INTEGER NOT NULL,
  owner_region            TEXT    NOT NULL,
  stage                   INTEGER NOT NULL,
  care_stage              INTEGER NOT NULL,
  closed_reason           INTEGER NOT NULL,
  age_band                INTEGER NOT NULL,
  sex                     INTEGER NOT NULL,
  origin_province         TEXT    NOT NULL,
  exploitation_forms      TEXT    NOT NULL,
  setting                 INTEGER NOT NULL,
  recruitment_means       INTEGER NOT NULL,
  identified_year         INTEGER NOT NULL,
  identified_month        INTEGER NOT NULL,
  legal_basis             INTEGER NOT NULL,
  consent_partner_sharing INTEGER NOT NULL
      CHECK (consent_partner_sharing IN (0, 1)),
  referrals               TEXT    NOT NULL,
  opened_at_us            INTEGER NOT NULL,
  updated_at_us           INTEGER NOT NULL,
  opened_by               TEXT    NOT NULL,
  PRIMARY KEY (case_id, version)
) STRICT, WITHOUT ROWID;

-- Idempotency records of mutating requests: a retry with the same
-- (principal, request_id) returns the first result.
CREATE TABLE requests (
  principal      TEXT    NOT NULL,
  request_id     TEXT    NOT NULL,
  method         TEXT    NOT NULL,
  fingerprint    TEXT    NOT NULL,
  case_id        TEXT    NOT NULL,
  case_version   INTEGER NOT NULL,
  recorded_at_us INTEGER NOT NULL,
  PRIMARY KEY (principal, request_id)
) STRICT, WITHOUT ROWID;

-- Dashboard counters, maintained incrementally in the transaction of the
-- change that moves them.
CREATE TABLE aggregates (
  table_name TEXT    NOT NULL,
  key        TEXT    NOT NULL,
  value      INTEGER NOT NULL,
  PRIMARY KEY (table_name, key)
) STRICT, WITHOUT ROWID;
