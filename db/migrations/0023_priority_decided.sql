-- When the organiser last decided a request's priority (`priority_decided_at`): any organiser
-- PATCH that sends `priority`, even at the value it has. The requests page's "needs a priority"
-- compared the priority with the one asked, so it could not tell a priority the organiser
-- confirmed at the asked value from one never looked at (a PATCH to the same value stored nothing).
-- A request the organiser makes, imports or loads is decided when made (it chose the priority).
--
-- Requests made before this: the organiser's at their creation; a delegation's at its latest
-- audit entry that set the priority (`set_priority`, or an `edit` whose priority changed), else,
-- when its priority is not the one it started with (what was asked, `must` held at `high`: the
-- cap, not a decision), at its last change; else undecided. The backfill leaves `updated_at`
-- as it was: nothing a reader saw changed.
ALTER TABLE meeting_requests ADD COLUMN priority_decided_at timestamptz;
ALTER TABLE meeting_requests DISABLE TRIGGER meeting_requests_touched;
UPDATE meeting_requests r SET priority_decided_at = CASE
        WHEN r.created_by = 'organiser' THEN r.created_at
        ELSE coalesce(
            (SELECT max(a.at) FROM audit_log a
             WHERE a.forum_id = r.forum_id AND a.entity = 'request' AND a.entity_id = r.id
               AND (a.action = 'set_priority'
                    OR (a.action = 'edit' AND a.before->>'priority' IS DISTINCT FROM a.after->>'priority'))),
            -- a delegation's request starts at what it asked, `must` held at `high` (migration 0016)
            CASE WHEN r.priority <> CASE r.requested_priority WHEN 'must' THEN 'high' ELSE r.requested_priority END
                 THEN r.updated_at END)
    END;
ALTER TABLE meeting_requests ENABLE TRIGGER meeting_requests_touched;

-- A request entry whose before and after differ only in when the request changed and when its
-- priority was decided (the organiser confirming the priority it has) changes nothing a solve
-- sees: it is no setup edit, so it does not put the current version out of date. Otherwise
-- migration 0022's function as it was.
CREATE OR REPLACE FUNCTION is_setup_edit(entity text, action text, before jsonb, after jsonb) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
    SELECT entity IN ('forum', 'session', 'venue', 'travel', 'room', 'resource', 'delegation', 'participant', 'request')
       AND action NOT IN ('rotate_token', 'rotate_calendar_link', 'close', 'reopen')
       AND (entity <> 'request'
            OR coalesce(before->>'status', '') = 'accepted'
            OR coalesce(after->>'status', '') = 'accepted')
       AND NOT (entity = 'forum' AND action = 'update' AND before IS NOT NULL AND after IS NOT NULL
                AND before - 'directory' = after - 'directory' AND before IS DISTINCT FROM after)
       AND NOT (entity = 'request' AND before IS NOT NULL AND after IS NOT NULL
                AND before - '{updated_at,priority_decided_at}'::text[]
                    = after - '{updated_at,priority_decided_at}'::text[])
$$;
