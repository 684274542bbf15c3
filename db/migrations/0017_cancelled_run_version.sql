-- A cancelled run keeps the best grid its search had found when it was stopped
-- (api/worker.py): its version is stored as a succeeded run's is, and the run
-- ends `cancelled` naming it. 0002 allowed a version to succeeded runs only.
-- A succeeded run still always has one; queued, running and failed runs never;
-- a cancelled run has one unless it was stopped before any grid existed (or
-- before it ever ran).

ALTER TABLE solve_runs DROP CONSTRAINT solve_runs_check;
ALTER TABLE solve_runs ADD CONSTRAINT solve_runs_version_check CHECK (
    CASE status
        WHEN 'succeeded' THEN version_id IS NOT NULL
        WHEN 'cancelled' THEN true
        ELSE version_id IS NULL
    END
);
