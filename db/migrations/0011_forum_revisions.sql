-- Which state of its forum a schedule version was built from.
--
-- A setup edit made while a run solved (a request accepted or withdrawn, a room
-- or an availability edited, the forum's settings patched) gave a version built
-- without it, which could be reviewed and published as if it were current. Each
-- forum now counts its setup edits (its revision), and each version records the
-- revision it was built from; a version whose forum has moved past it is out of
-- date, and publishing it is refused (api/publishing.py).
--
-- Every edit writes its audit row in its own transaction, so the count is kept
-- by a trigger on that row: no path can edit and forget to count, and the audit
-- row says which edit made which revision (what the API shows as "since").
-- The counter has its own table rather than a column of `forums`: a worker
-- storing a version and a publisher hold the forum row's lock while they take
-- locks on rooms and requests, and an edit holds its room's or request's lock
-- when its audit row is written; counting in `forums` would deadlock the two.
--
-- Versions stored before this migration are taken as current (revision 0, as
-- their forums): nothing recorded what they were built from.

CREATE TABLE forum_revisions (
    forum_id uuid PRIMARY KEY REFERENCES forums ON DELETE CASCADE,
    revision bigint NOT NULL CHECK (revision >= 0)
);
INSERT INTO forum_revisions (forum_id, revision) SELECT id, 0 FROM forums;

ALTER TABLE audit_log ADD COLUMN revision bigint;  -- the forum revision this edit made; null: not a setup edit
CREATE UNIQUE INDEX audit_log_revision ON audit_log (forum_id, revision) WHERE revision IS NOT NULL;

ALTER TABLE schedule_versions ADD COLUMN forum_revision bigint NOT NULL DEFAULT 0;

-- Setup edits are those that change what a solve sees (db/problem.py): the forum's
-- settings and everything entered around the meetings; a request only when it is,
-- or stops being, a meeting (accepted). Tokens, calendar links, webhooks, runs,
-- versions and recorded changes (forum_changes, which fail a run on their own:
-- runs.ChangedMeanwhile) are not.
CREATE FUNCTION count_setup_edit() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.forum_id IS NULL
       OR NEW.entity NOT IN ('forum', 'session', 'venue', 'travel', 'room', 'resource', 'delegation', 'participant', 'request')
       OR NEW.action IN ('rotate_token', 'rotate_calendar_link')
       OR (NEW.entity = 'request'
           AND coalesce(NEW.before->>'status', '') <> 'accepted'
           AND coalesce(NEW.after->>'status', '') <> 'accepted') THEN
        RETURN NEW;
    END IF;
    INSERT INTO forum_revisions AS counted (forum_id, revision) VALUES (NEW.forum_id, 1)
        ON CONFLICT (forum_id) DO UPDATE SET revision = counted.revision + 1
        RETURNING counted.revision INTO NEW.revision;
    RETURN NEW;
END
$$;
CREATE TRIGGER audit_log_counts_setup_edits BEFORE INSERT ON audit_log
    FOR EACH ROW EXECUTE FUNCTION count_setup_edit();

-- What a version was built from is part of it: as immutable as its schedule.
CREATE OR REPLACE FUNCTION allow_publishing_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF (NEW.id, NEW.forum_id, NEW.number, NEW.schedule, NEW.created_at, NEW.derived_from_id, NEW.forum_revision)
       IS DISTINCT FROM
       (OLD.id, OLD.forum_id, OLD.number, OLD.schedule, OLD.created_at, OLD.derived_from_id, OLD.forum_revision)
       OR (NEW.run_id IS DISTINCT FROM OLD.run_id
           AND NOT (NEW.run_id IS NULL AND NOT EXISTS (SELECT 1 FROM solve_runs WHERE id = OLD.run_id))) THEN
        RAISE EXCEPTION 'stored schedules are immutable' USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END
$$;
