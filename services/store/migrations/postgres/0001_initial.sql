-- ruta PostgreSQL schema, version 1.
--
-- Applied once, inside one transaction under an advisory lock, by the
-- store's migration runner (services/store/postgres/postgres_store.cc), which
-- records it in schema_migrations. Never edit a released migration: add a
-- new file, with the same number and meaning as its SQLite sibling in
-- ../sqlite/ (one schema version for both backends).
--
-- Conventions, those of the SQLite schema so that one body of SQL serves
-- both (services/store/sql/): times are BIGINT microseconds since the Unix
-- epoch (absl::ToUnixMicros) in columns suffixed _us; enumerations and flags
-- are BIGINT values equal to the proto enum values; lists are TEXT,
-- comma-separated, empty string for an empty list; raw bytes are BYTEA.
-- Every text column is COLLATE "C": keys compare and page bytewise, as in
-- SQLite, whatever the database's locale.

-- Current version of each case: one row per case, with one column per domain
-- field so that filters and indexes work.
CREATE TABLE cases (
  case_id                 TEXT COLLATE "C"    NOT NULL PRIMARY KEY,
  person_ref              TEXT COLLATE "C"    NOT NULL,
  kind                    BIGINT  NOT NULL,
  owner_region            TEXT COLLATE "C"    NOT NULL,
  stage                   BIGINT  NOT NULL,
  care_stage              BIGINT  NOT NULL,
  closed_reason           BIGINT  NOT NULL,
  age_band                BIGINT  NOT NULL,
  sex                     BIGINT  NOT NULL,
  origin_province         TEXT COLLATE "C"    NOT NULL,
  exploitation_forms      TEXT COLLATE "C"    NOT NULL,  -- e.g. "1,3"
  setting                 BIGINT  NOT NULL,
  recruitment_means       BIGINT  NOT NULL,
  identified_year         BIGINT  NOT NULL,
  identified_month        BIGINT  NOT NULL,
  legal_basis             BIGINT  NOT NULL,
  consent_partner_sharing BIGINT  NOT NULL
      CHECK (consent_partner_sharing IN (0, 1)),
  referrals               TEXT COLLATE "C"    NOT NULL,  -- partner ids, e.g. "tdh,caritas"
  version                 BIGINT  NOT NULL CHECK (version >= 1),
  opened_at_us            BIGINT  NOT NULL,
  updated_at_us           BIGINT  NOT NULL,
  opened_by               TEXT COLLATE "C"    NOT NULL
);

-- FindPerson: every case of a child.
CREATE INDEX cases_by_person_ref ON cases (person_ref, case_id);
-- ListCases of one region, paged by case_id.
CREATE INDEX cases_by_owner_region ON cases (owner_region, case_id);

-- Every version of every case, including the current one.
CREATE TABLE case_history (
  case_id                 TEXT COLLATE "C"    NOT NULL REFERENCES cases (case_id),
  version                 BIGINT  NOT NULL CHECK (version >= 1),
  person_ref              TEXT COLLATE "C"    NOT NULL,
  kind                    BIGINT  NOT NULL,
  owner_region            TEXT COLLATE "C"    NOT NULL,
  stage                   BIGINT  NOT NULL,
  care_stage              BIGINT  NOT NULL,
  closed_reason           BIGINT  NOT NULL,
  age_band                BIGINT  NOT NULL,
  sex                     BIGINT  NOT NULL,
  origin_province         TEXT COLLATE "C"    NOT NULL,
  exploitation_forms      TEXT COLLATE "C"    NOT NULL,
  setting                 BIGINT  NOT NULL,
  recruitment_means       BIGINT  NOT NULL,
  identified_year         BIGINT  NOT NULL,
  identified_month        BIGINT  NOT NULL,
  legal_basis             BIGINT  NOT NULL,
  consent_partner_sharing BIGINT  NOT NULL
      CHECK (consent_partner_sharing IN (0, 1)),
  referrals               TEXT COLLATE "C"    NOT NULL,
  opened_at_us            BIGINT  NOT NULL,
  updated_at_us           BIGINT  NOT NULL,
  opened_by               TEXT COLLATE "C"    NOT NULL,
  PRIMARY KEY (case_id, version)
);

-- Idempotency records of mutating requests: a retry with the same
-- (principal, request_id) returns the first result.
CREATE TABLE requests (
  principal      TEXT COLLATE "C"    NOT NULL,
  request_id     TEXT COLLATE "C"    NOT NULL,
  method         TEXT COLLATE "C"    NOT NULL,
  fingerprint    TEXT COLLATE "C"    NOT NULL,
  case_id        TEXT COLLATE "C"    NOT NULL,
  case_version   BIGINT  NOT NULL,
  recorded_at_us BIGINT  NOT NULL,
  PRIMARY KEY (principal, request_id)
);

-- Dashboard counters, maintained incrementally in the transaction of the
-- change that moves them.
CREATE TABLE aggregates (
  table_name TEXT COLLATE "C"    NOT NULL,
  key        TEXT COLLATE "C"    NOT NULL,
  value      BIGINT  NOT NULL,
  PRIMARY KEY (table_name, key)
);
