-- Solve runs: a queue of solves taken by workers under a lease.
--
-- A worker claims a run with FOR UPDATE SKIP LOCKED and keeps it by renewing
-- `lease_expires_at` (its heartbeat); a run whose lease lapsed is claimed again
-- by another worker. Exactly one schedule version comes from a run: the version
-- names its run (unique), and the run names its version (unique), both written
-- in the transaction that marks the run succeeded.

CREATE TABLE solve_runs (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    forum_id uuid NOT NULL REFERENCES forums ON DELETE CASCADE,
    status text NOT NULL DEFAULT 'queued'
        CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
    options jsonb NOT NULL,  -- time_limit, workers, seed
    cancel_requested boolean NOT NULL DEFAULT false,
    lease_owner text,
    lease_expires_at timestamptz,
    heartbeat_at timestamptz,
    attempts integer NOT NULL DEFAULT 0,
    progress jsonb,  -- the latest: objective, best_bound, gap, elapsed, solutions
    error text,
    created_at timestamptz NOT NULL DEFAULT now(),
    started_at timestamptz,
    finished_at timestamptz,
    version_id bigint UNIQUE,
    UNIQUE (forum_id, id),
    FOREIGN KEY (forum_id, version_id) REFERENCES schedule_versions (forum_id, id),
    CHECK ((status = 'succeeded') = (version_id IS NOT NULL))
);
-- Workers look only at runs that may still need one.
CREATE INDEX solve_runs_open ON solve_runs (created_at) WHERE status IN ('queued', 'running');

-- Every progress report of a run, in order, for the event stream.
CREATE TABLE solve_run_progress (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    run_id bigint NOT NULL REFERENCES solve_runs ON DELETE CASCADE,
    progress jsonb NOT NULL,
    at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX solve_run_progress_by_run ON solve_run_progress (run_id, id);

-- A version made by a run remembers it; a second version for the same run is refused.
ALTER TABLE schedule_versions ADD COLUMN run_id bigint UNIQUE REFERENCES solve_runs ON DELETE SET NULL;

-- One published version per forum at a time.
CREATE UNIQUE INDEX one_published_version ON schedule_versions (forum_id) WHERE published;
