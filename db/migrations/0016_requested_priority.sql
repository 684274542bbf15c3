-- A request's priority is the organiser's to decide (PATCH /forums/{id}/requests/{r}). What the
-- asker chose is kept beside it as `requested_priority`: a delegation asks for at most `high`
-- (asking `must` is kept here and stored as `high` until the organiser raises it); a request the
-- organiser makes, imports or loads has both the same. Requests made before this: both the same.
ALTER TABLE meeting_requests ADD COLUMN requested_priority text
    CHECK (requested_priority IN ('must', 'high', 'normal', 'low'));
UPDATE meeting_requests SET requested_priority = priority;
ALTER TABLE meeting_requests ALTER COLUMN requested_priority SET NOT NULL;
