-- ruta PostgreSQL schema, version 5: activities (DESIGN.md section 4), the
-- non-personal records of awareness activities and trainings of authority
-- members. Conventions as in 0001_initial.sql. Never federated; never
-- changed once recorded.
--
-- kind: 1 awareness (campaign, people_reached in `count`), 2 training
-- (level, members_trained in `count`); the other kind's columns hold '' / 0.
-- `month_index` = year * 12 + month - 1, for the month range filters.
CREATE TABLE activities (
  activity_id    TEXT COLLATE "C"    NOT NULL PRIMARY KEY,
  region         TEXT COLLATE "C"    NOT NULL,
  kind           BIGINT  NOT NULL CHECK (kind IN (1, 2)),
  province       TEXT COLLATE "C"    NOT NULL,
  year           BIGINT  NOT NULL,
  month          BIGINT  NOT NULL CHECK (month BETWEEN 1 AND 12),
  month_index    BIGINT  NOT NULL,
  campaign       TEXT COLLATE "C"    NOT NULL,
  level          BIGINT  NOT NULL,
  count          BIGINT  NOT NULL CHECK (count >= 1),
  recorded_at_us BIGINT  NOT NULL
);
CREATE INDEX activities_by_region ON activities (region, activity_id);
