-- A change of a closed forum is refused at its commit, serialized with the closing.
--
-- run_change (api/http.py) refuses a change with 409 when the caller's forum was closed at its
-- token lookup; a change already past that lookup when the close committed still landed. Every
-- change writes audit entries, and number_audit_entries (migration 0014) numbers them at commit
-- under the forum's forum_revisions row lock, which the close's own entry ("close") takes too.
-- After that lock, the forum's closed_at is read afresh (READ COMMITTED: a new snapshot per
-- statement): either the change committed before the close did (it came first), or it sees the
-- close and fails with SQLSTATE 55000 naming forums.closed_at, which the API answers 409 like
-- the early refusal. The closing's own transaction (its "close" entry) passes. No lock is added
-- (the row lock was taken already) and no round trip: one indexed read per committing change.

CREATE OR REPLACE FUNCTION number_audit_entries() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    forum uuid;
BEGIN
    IF NEW.forum_id IS NULL OR NOT EXISTS (SELECT 1 FROM audit_log WHERE id = NEW.id AND number IS NULL) THEN
        RETURN NULL;
    END IF;
    -- One counter row per forum, locked in forum order: two transactions that wrote entries of
    -- the same forums never hold one each while waiting for the other's.
    FOR forum IN SELECT DISTINCT forum_id FROM audit_log
                 WHERE number IS NULL AND forum_id IS NOT NULL ORDER BY forum_id LOOP
        INSERT INTO forum_revisions AS counted (forum_id, revision) VALUES (forum, 0)
            ON CONFLICT (forum_id) DO UPDATE SET revision = counted.revision;
    END LOOP;
    -- Under those locks, a fresh read: a forum closed by a transaction that committed first
    -- takes no more changes, but from the transaction that closes it.
    SELECT f.id INTO forum FROM forums f
        WHERE f.closed_at IS NOT NULL
          AND f.id IN (SELECT forum_id FROM audit_log WHERE number IS NULL AND forum_id IS NOT NULL)
          AND NOT EXISTS (SELECT 1 FROM audit_log a WHERE a.number IS NULL AND a.forum_id = f.id
                          AND a.entity = 'forum' AND a.action = 'close')
        LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'forum % is closed', forum
            USING ERRCODE = 'object_not_in_prerequisite_state', TABLE = 'forums', COLUMN = 'closed_at',
                  HINT = 'reopen it (POST /forums/' || forum || '/reopen) to change it';
    END IF;
    WITH pending AS (
        SELECT id, forum_id, is_setup_edit(entity, action, before, after) AS setup
        FROM audit_log WHERE number IS NULL AND forum_id IS NOT NULL
    ), positioned AS (
        SELECT id, forum_id, setup,
               row_number() OVER (PARTITION BY forum_id ORDER BY id) AS entry,
               count(*) FILTER (WHERE setup) OVER (PARTITION BY forum_id ORDER BY id) AS edit
        FROM pending
    ), counted AS (
        UPDATE forum_revisions AS f
            SET audit_entries = f.audit_entries + totals.entries, revision = f.revision + totals.edits
            FROM (SELECT forum_id, max(entry) AS entries, max(edit) AS edits FROM positioned GROUP BY forum_id) AS totals
            WHERE f.forum_id = totals.forum_id
            RETURNING f.forum_id, f.audit_entries - totals.entries AS entries_before, f.revision - totals.edits AS revisions_before
    )
    UPDATE audit_log AS a
        SET number = c.entries_before + p.entry,
            revision = CASE WHEN p.setup THEN c.revisions_before + p.edit END
        FROM positioned AS p JOIN counted AS c ON c.forum_id = p.forum_id
        WHERE a.id = p.id;
    RETURN NULL;
END
$$;

-- Closing now cancels the forum's queued and running runs (api/controllers/organisers.py), and a
-- worker claims no run of a closed forum: forums closed before this migration have theirs
-- cancelled here, as closing them now would (a running one is stopped by its worker, and
-- stores no grid).
UPDATE solve_runs r SET cancel_requested = true, error = 'the forum was closed: its queued and running runs were cancelled',
       status = CASE WHEN r.status = 'queued' OR r.lease_expires_at < now() THEN 'cancelled' ELSE r.status END,
       finished_at = CASE WHEN r.status = 'queued' OR r.lease_expires_at < now() THEN now() ELSE r.finished_at END,
       lease_expires_at = CASE WHEN r.status = 'queued' OR r.lease_expires_at < now() THEN NULL ELSE r.lease_expires_at END
  FROM forums f
 WHERE f.id = r.forum_id AND f.closed_at IS NOT NULL AND r.status IN ('queued', 'running');
