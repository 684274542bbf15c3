-- Last-minute changes recorded by the organiser (solver/changes.py), in order.
--
-- The stored forum data is never rewritten by a change: the problem every solve
-- sees is the stored forum with these changes applied in `number` order
-- (db/changes.py). Each row also keeps what the change did to the grid that was
-- published when it was recorded, so the organiser's change log answers "what
-- did this break" without solving again.

CREATE TABLE forum_changes (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    forum_id uuid NOT NULL REFERENCES forums ON DELETE CASCADE,
    number integer NOT NULL CHECK (number > 0),
    change jsonb NOT NULL,  -- a solver.changes.Change; participants as "delegation/participant"
    summary text NOT NULL,
    checked_version integer,  -- the published version it was checked against; null when none was
    breaks text[] NOT NULL DEFAULT '{}',  -- published meetings whose placement it breaks
    removes text[] NOT NULL DEFAULT '{}',  -- published meetings it removes
    adds text[] NOT NULL DEFAULT '{}',  -- meetings it asks to place
    actor text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (forum_id, number)
);

-- A re-solve run (options.resolve set) keeps what its changes do not break and
-- records here every meeting it moved, from where to where, and why.
ALTER TABLE solve_runs ADD COLUMN moves jsonb;
