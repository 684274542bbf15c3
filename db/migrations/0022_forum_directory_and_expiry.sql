-- Who reads a forum's directory (GET /forums/{id}/directory: each delegation's id, name and
-- country): 'members', the organiser and every delegation (as before); 'organiser', the organiser
-- only, for a forum that keeps the list of those attending private until it opens. A delegation
-- then gets a 403 that says so: the setting is the forum's (GET /forums/{id} shows it to every
-- member), so the refusal tells nothing about any delegation.
ALTER TABLE forums ADD COLUMN directory text NOT NULL DEFAULT 'members'
    CONSTRAINT forums_directory_check CHECK (directory IN ('members', 'organiser'));

-- Who may read the directory changes nothing a solve sees: a forum update that changes only it is
-- no setup edit, so it does not make the current version out of date (migration 0018's rule
-- otherwise). Entries written before this migration have no "directory" and compare as before.
CREATE OR REPLACE FUNCTION is_setup_edit(entity text, action text, before jsonb, after jsonb) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
    SELECT entity IN ('forum', 'session', 'venue', 'travel', 'room', 'resource', 'delegation', 'participant', 'request')
       AND action NOT IN ('rotate_token', 'rotate_calendar_link', 'close', 'reopen')
       AND (entity <> 'request'
            OR coalesce(before->>'status', '') = 'accepted'
            OR coalesce(after->>'status', '') = 'accepted')
       AND NOT (entity = 'forum' AND action = 'update' AND before IS NOT NULL AND after IS NOT NULL
                AND before - 'directory' = after - 'directory' AND before IS DISTINCT FROM after)
$$;

-- Which request deadline's passing was told (request.expired to every party of a request it left
-- waiting; api/request_notices.py `tell_expired`). The clock passing a deadline writes nothing,
-- so the worker's dispatcher writes the notices in a transaction of their own, once per deadline:
-- a deadline moved later opens the requests again (told in that PATCH) and clears this, so its
-- passing is told afresh. Deadlines passed before this migration are taken as told: no flood of
-- old news on the first start.
ALTER TABLE forums ADD COLUMN expiry_told timestamptz;
UPDATE forums SET expiry_told = request_deadline WHERE request_deadline <= now();
