-- What the solver model holds beyond the core schema, so that a whole problem
-- (sidelines load, POST /forums/import) is stored without losing anything.
--
-- A request's room and time needs (features, seats, venues, earliest/latest,
-- a pin, precedences, shared resources) are one jsonb document shaped like
-- db.records.MeetingNeeds; its datetimes are forum-local wall-clock times like
-- every other time entered for a forum.
ALTER TABLE meeting_requests ADD COLUMN needs jsonb NOT NULL DEFAULT '{}';

-- The forum's objective settings (solver.model.ObjectiveSettings); '{}' is the defaults.
ALTER TABLE forums ADD COLUMN objective jsonb NOT NULL DEFAULT '{}';

-- Pairs of delegations whose meetings are never back to back in one room,
-- stored once (the loader puts the lower id first).
CREATE TABLE keep_apart (
    forum_id uuid NOT NULL,
    first_id text NOT NULL,
    second_id text NOT NULL CHECK (first_id <> second_id),
    PRIMARY KEY (forum_id, first_id, second_id),
    FOREIGN KEY (forum_id, first_id) REFERENCES delegations ON DELETE CASCADE,
    FOREIGN KEY (forum_id, second_id) REFERENCES delegations ON DELETE CASCADE
);
