-- ruta PostgreSQL schema, version 7: the dashboard (DESIGN.md §6).
-- The dashboard's stalled work (DESIGN.md §6), computed when asked because it
-- depends on "now": partial indexes over the open set only, so that the
-- query never scans closed cases or settled transfers.

-- Cases in FOLLOW_UP (stage 10) of a region, by their last change.
CREATE INDEX cases_follow_up ON cases (owner_region, updated_at_us)
    WHERE stage = 10;
-- Transfers still REQUESTED (state 1) of a sending region, by request day.
CREATE INDEX transfers_requested ON transfers (from_region, requested_on)
    WHERE state = 1;
