-- Named organiser tokens, and closing a forum.
--
-- A forum had one organiser token (forums.organiser_token_hash), shared by all its staff and
-- never replaced. Each forum now has numbered organiser tokens (1, 2, 3 ... within the forum),
-- each with a name ("Duty officer, night shift"), stored as SHA-256 hashes like the others. The
-- forum's existing token becomes its token 1. A revoked token keeps its row (its number and name
-- still explain the audit entries it wrote: actor `organiser:<forum>/<number>`) but no longer
-- authenticates. The old column is no longer read or written; it stays, nullable, because tests
-- of earlier migrations insert forums with it.
--
-- closed_at: the forum is closed (archived) since then. Delegation tokens and calendar feeds stop
-- working, and the organiser can read and export but change nothing until it reopens the forum.

CREATE TABLE organiser_tokens (
    forum_id uuid NOT NULL REFERENCES forums ON DELETE CASCADE,
    number integer NOT NULL CHECK (number > 0),
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    token_hash text NOT NULL UNIQUE,
    created_at timestamptz NOT NULL DEFAULT now(),
    last_used_at timestamptz,
    revoked_at timestamptz,
    PRIMARY KEY (forum_id, number)
);

INSERT INTO organiser_tokens (forum_id, number, name, token_hash, created_at)
SELECT id, 1, 'first organiser token', organiser_token_hash, created_at FROM forums;

ALTER TABLE forums ALTER COLUMN organiser_token_hash DROP NOT NULL;
UPDATE forums SET organiser_token_hash = NULL;

ALTER TABLE forums ADD COLUMN closed_at timestamptz;

-- Closing and reopening are written as the forum's entries ("close", "reopen"), and issuing or
-- revoking an organiser token as entity "organiser_token": none changes what a solve sees, so
-- none counts in the forum's revision (migration 0014's rule, with "close" and "reopen" added;
-- "organiser_token" is not among its entities). A version stays current across a closing.
CREATE OR REPLACE FUNCTION is_setup_edit(entity text, action text, before jsonb, after jsonb) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
    SELECT entity IN ('forum', 'session', 'venue', 'travel', 'room', 'resource', 'delegation', 'participant', 'request')
       AND action NOT IN ('rotate_token', 'rotate_calendar_link', 'close', 'reopen')
       AND (entity <> 'request'
            OR coalesce(before->>'status', '') = 'accepted'
            OR coalesce(after->>'status', '') = 'accepted')
$$;
