-- An audit entry's number in its forum (1, 2, 3 ...). The table's id is one counter for
-- the whole server, and it was each entry's `id` in GET /forums/{id}/audit and that list's
-- paging cursor: two entries of a forum told its organiser how many entries other forums
-- had written in between, and when. As 0010 and 0012 did for publications, runs and
-- webhooks, the id stays internal and the number is what the API shows.
--
-- Numbers are given at commit, by a deferred trigger, together with the forum revision
-- that migration 0011 counted when each row was inserted. Counting at insert held the
-- forum's counter from a transaction's first entry to its end, and transactions write
-- rows after their first entry (a CSV import writes one entry per record): an import
-- that had written X's entry and went on to insert Y waited for a POST of Y, which
-- waited for the counter to write Y's entry, a deadlock (and a 500). At commit a
-- transaction takes nothing but its forums' counters, in forum order, so two writers
-- wait for each other's commit at most. It also makes numbers gapless and committed in
-- order: a rolled-back entry takes none, and no entry turns up behind a page a client
-- has read (`after` is a number that only grows with commits).
--
-- Existing entries are numbered in id order, the order the audit list had.

ALTER TABLE audit_log ADD COLUMN number bigint;  -- null until its transaction commits, and for entries of no forum
UPDATE audit_log SET number = numbered.number
    FROM (SELECT id, row_number() OVER (PARTITION BY forum_id ORDER BY id) AS number
          FROM audit_log WHERE forum_id IS NOT NULL) AS numbered
    WHERE audit_log.id = numbered.id;
ALTER TABLE audit_log ADD CONSTRAINT audit_log_number UNIQUE (forum_id, number);
-- The entries still to number: only those of transactions in flight (and dead versions until vacuumed).
CREATE INDEX audit_log_unnumbered ON audit_log (id) WHERE number IS NULL AND forum_id IS NOT NULL;

ALTER TABLE forum_revisions ADD COLUMN audit_entries bigint NOT NULL DEFAULT 0 CHECK (audit_entries >= 0);
INSERT INTO forum_revisions (forum_id, revision) SELECT id, 0 FROM forums ON CONFLICT (forum_id) DO NOTHING;
UPDATE forum_revisions SET audit_entries = counted.entries
    FROM (SELECT forum_id, max(number) AS entries FROM audit_log WHERE forum_id IS NOT NULL GROUP BY forum_id) AS counted
    WHERE forum_revisions.forum_id = counted.forum_id;

-- Which entries are setup edits, counted in the forum's revision: migration 0011's rule, unchanged.
CREATE FUNCTION is_setup_edit(entity text, action text, before jsonb, after jsonb) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
    SELECT entity IN ('forum', 'session', 'venue', 'travel', 'room', 'resource', 'delegation', 'participant', 'request')
       AND action NOT IN ('rotate_token', 'rotate_calendar_link')
       AND (entity <> 'request'
            OR coalesce(before->>'status', '') = 'accepted'
            OR coalesce(after->>'status', '') = 'accepted')
$$;

DROP TRIGGER audit_log_counts_setup_edits ON audit_log;
DROP FUNCTION count_setup_edit();

-- Fires once per entry at commit; the first firing numbers all of its transaction's entries
-- (those still unnumbered that it can see: its own, as every committed one has its number),
-- and the rest find theirs done.
CREATE FUNCTION number_audit_entries() RETURNS trigger LANGUAGE plpgsql AS $$
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
CREATE CONSTRAINT TRIGGER audit_log_numbered AFTER INSERT ON audit_log
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION number_audit_entries();
