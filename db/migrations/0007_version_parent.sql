-- A version made from another one (a manual move, an applied fit option) names
-- it, so the organiser sees where a grid came from without reading the audit
-- log. Part of what the version is: as immutable as its schedule.

ALTER TABLE schedule_versions ADD COLUMN derived_from_id bigint;
ALTER TABLE schedule_versions ADD CONSTRAINT schedule_versions_derived_from
    FOREIGN KEY (forum_id, derived_from_id) REFERENCES schedule_versions (forum_id, id);

CREATE OR REPLACE FUNCTION allow_publishing_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF (NEW.id, NEW.forum_id, NEW.number, NEW.schedule, NEW.created_at, NEW.derived_from_id)
       IS DISTINCT FROM (OLD.id, OLD.forum_id, OLD.number, OLD.schedule, OLD.created_at, OLD.derived_from_id)
       OR (NEW.run_id IS DISTINCT FROM OLD.run_id
           AND NOT (NEW.run_id IS NULL AND NOT EXISTS (SELECT 1 FROM solve_runs WHERE id = OLD.run_id))) THEN
        RAISE EXCEPTION 'stored schedules are immutable' USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END
$$;
