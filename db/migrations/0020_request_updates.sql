-- When a request last changed, and a count of the changes of a forum's requests.
--
-- The organiser's requests page could only read all of a forum's requests (1,100 at UNGA) to
-- learn whether anything changed: requests had no `updated_at`, and a new request, an answer or
-- a withdrawal is not a setup edit (migration 0011), so the forum's revision does not move.
--
-- `updated_at` is set by triggers, so no path can change a request and forget it: any update of
-- the request's row (its fields, its version, its withdrawal), and any update of one of its
-- parties' rows (an answer, attendees, asked again). A new request starts with its created_at.
-- Requests made before this migration take the latest of what recorded their changes: their
-- creation, withdrawal, parties' answers and audit entries.
--
-- `forum_revisions.requests` counts the committed changes of the forum's requests, at commit, in
-- the same place and under the same row lock as the revision and the audit numbers (migrations
-- 0014, 0019): every change writes audit entries, and an entry of a request, of a delegation (its
-- deletion takes its requests with it) or of the forum (a load, a deadline or zone moved: what a
-- request's status and times show) counts one. No new lock and no new round trip: the counter
-- row is already locked there. A count, not a flag: a poll compares it with the count it holds
-- (GET /forums/{id}/requests answers 304 while it has not moved). It may move when nothing it
-- shows did (a delegation's name edited); it never stays when a request changed.

ALTER TABLE meeting_requests ADD COLUMN updated_at timestamptz;
UPDATE meeting_requests r SET updated_at = greatest(r.created_at, r.withdrawn_at, answered.at, audited.at)
    FROM meeting_requests m
    LEFT JOIN (SELECT forum_id, request_id, max(responded_at) AS at FROM request_parties
               GROUP BY forum_id, request_id) AS answered
           ON answered.forum_id = m.forum_id AND answered.request_id = m.id
    LEFT JOIN (SELECT forum_id, entity_id, max(at) AS at FROM audit_log WHERE entity = 'request'
               GROUP BY forum_id, entity_id) AS audited
           ON audited.forum_id = m.forum_id AND audited.entity_id = m.id
    WHERE m.forum_id = r.forum_id AND m.id = r.id;
ALTER TABLE meeting_requests ALTER COLUMN updated_at SET DEFAULT now();
ALTER TABLE meeting_requests ALTER COLUMN updated_at SET NOT NULL;

CREATE FUNCTION touch_request() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.updated_at := now();
    RETURN NEW;
END
$$;
CREATE TRIGGER meeting_requests_touched BEFORE UPDATE ON meeting_requests
    FOR EACH ROW WHEN (OLD.* IS DISTINCT FROM NEW.*) EXECUTE FUNCTION touch_request();

-- A party's change touches its request, whose row the writer holds locked already (FOR UPDATE).
CREATE FUNCTION touch_request_of_party() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE meeting_requests SET updated_at = now()
        WHERE forum_id = NEW.forum_id AND id = NEW.request_id AND updated_at <> now();
    RETURN NULL;
END
$$;
CREATE TRIGGER request_parties_touch_request AFTER UPDATE ON request_parties
    FOR EACH ROW WHEN (OLD.* IS DISTINCT FROM NEW.*) EXECUTE FUNCTION touch_request_of_party();

-- Which audit entries change what a list of the forum's requests shows.
CREATE FUNCTION touches_requests(entity text) RETURNS boolean LANGUAGE sql IMMUTABLE AS $$
    SELECT entity IN ('request', 'delegation', 'forum')
$$;

ALTER TABLE forum_revisions ADD COLUMN requests bigint NOT NULL DEFAULT 0 CHECK (requests >= 0);

-- Migration 0019's function, counting `requests` beside the revision and the entry numbers.
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
        SELECT id, forum_id, is_setup_edit(entity, action, before, after) AS setup,
               touches_requests(entity) AS touches_requests
        FROM audit_log WHERE number IS NULL AND forum_id IS NOT NULL
    ), positioned AS (
        SELECT id, forum_id, setup, touches_requests,
               row_number() OVER (PARTITION BY forum_id ORDER BY id) AS entry,
               count(*) FILTER (WHERE setup) OVER (PARTITION BY forum_id ORDER BY id) AS edit
        FROM pending
    ), counted AS (
        UPDATE forum_revisions AS f
            SET audit_entries = f.audit_entries + totals.entries, revision = f.revision + totals.edits,
                requests = f.requests + totals.requests
            FROM (SELECT forum_id, max(entry) AS entries, max(edit) AS edits,
                         count(*) FILTER (WHERE touches_requests) AS requests
                  FROM positioned GROUP BY forum_id) AS totals
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
