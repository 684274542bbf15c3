-- A stored schedule's run is part of what it is: which solve made it. 0002 added
-- schedule_versions.run_id after 0001's trigger was written, so the trigger did
-- not cover it and a version could be re-attributed to another run. Now only the
-- published flag and time may change, and run_id only by ON DELETE SET NULL when
-- its run row is deleted (the run is gone, so it no longer exists to point at).

CREATE OR REPLACE FUNCTION allow_publishing_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF (NEW.id, NEW.forum_id, NEW.number, NEW.schedule, NEW.created_at)
       IS DISTINCT FROM (OLD.id, OLD.forum_id, OLD.number, OLD.schedule, OLD.created_at)
       OR (NEW.run_id IS DISTINCT FROM OLD.run_id
           AND NOT (NEW.run_id IS NULL AND NOT EXISTS (SELECT 1 FROM solve_runs WHERE id = OLD.run_id))) THEN
        RAISE EXCEPTION 'stored schedules are immutable' USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END
$$;
