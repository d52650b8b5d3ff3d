-- ruta SQLite schema, version 6: NGO partners (DESIGN.md sections 2 and 6).
--
-- Both tables are maintained by the store itself, inside PutCase, PutService
-- and EraseCase, so that they never disagree with the cases they describe.

-- The referrals of every case, one row per (partner, case): which partner
-- may see which case, since when, and who holds the case's custody now (a
-- partner sees only the cases owned by the region of the node it calls).
CREATE TABLE partner_referrals (
  partner_id     TEXT    NOT NULL,  -- "<region>/<name>"
  case_id        TEXT    NOT NULL,
  owner_region   TEXT    NOT NULL,
  referred_at_us INTEGER NOT NULL,
  -- Position of the partner change that began the referral: a watch's
  -- initial state at a position lists only referrals begun by then.
  since_position INTEGER NOT NULL,
  PRIMARY KEY (partner_id, case_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX partner_referrals_by_case ON partner_referrals (case_id);

-- Commit-ordered log of what changed for each partner: the cursor of
-- PartnerStatus.WatchReferredCases. A row per partner whose view of a case
-- changed: the case changed (case_version is the version after it), a
-- service it delivers changed, or its access ended (withdrawn = 1: referral
-- withdrawn, case erased). AUTOINCREMENT: a position is never reused, even
-- after the rows of an erased case are deleted, so that a watcher's cursor
-- never skips a newer row.
CREATE TABLE partner_changes (
  position     INTEGER PRIMARY KEY AUTOINCREMENT,
  partner_id   TEXT    NOT NULL,
  case_id      TEXT    NOT NULL,
  case_version INTEGER NOT NULL,
  withdrawn    INTEGER NOT NULL CHECK (withdrawn IN (0, 1))
) STRICT;
CREATE INDEX partner_changes_by_partner ON partner_changes (partner_id, position);
CREATE INDEX partner_changes_by_case ON partner_changes (case_id);
