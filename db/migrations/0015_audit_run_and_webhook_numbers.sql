-- Audit entries written before migration 0012 name solve runs and webhooks by the tables'
-- server-wide ids: a run's entries ("create", "cancel": entity_id and the run's `id` in
-- before/after), a publication's entry (the version summary's `run_id`) and a webhook's
-- "create" entry (entity_id and the webhook's `id`). Their gaps told an organiser reading
-- GET /forums/{id}/audit how many runs and webhooks other forums had made in between, as the
-- ids themselves did until 0012. Here they take the numbers 0012 gave those runs and webhooks,
-- the ids the API shows since.
--
-- An entry is rewritten only when it is tied to its row beyond doubt: same forum, the id its
-- entity_id and JSON name, and the creation time its JSON recorded (a run's or webhook's
-- `created_at`, the time of the transaction that made it; a webhook's `url` too). An entry
-- written since 0012 names a number, and the row holding that id, if any, was made at another
-- time, so it is left alone; entries that would be tied two ways (two runs of a forum made in
-- one transaction, which the API never does) are left alone too. Run again, this finds nothing.
--
-- What cannot be rewritten stays as written: the entries of webhooks removed since (their
-- "create" and "delete" entries, and those retired with a rotated token). A webhook removed
-- before 0012 never had a number; one removed after it took its number with its row, and a
-- "delete" entry records no time or URL to tell an old id from a later number. Those entries
-- still count webhooks server-wide. Runs are never removed but with their forum, which takes
-- its audit entries with it, so every run's entries written before 0012 are rewritten.

-- The creation time an entry's JSON recorded (msgspec's RFC 3339), or null when it holds none.
CREATE FUNCTION pg_temp.recorded_at(value jsonb) RETURNS timestamptz LANGUAGE sql STABLE AS $$
    SELECT CASE WHEN jsonb_typeof(value) = 'object'
                 AND value->>'created_at' ~ '^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$'
                THEN (value->>'created_at')::timestamptz END
$$;

-- With its number in place of its id, where the JSON has one.
CREATE FUNCTION pg_temp.numbered(value jsonb, field text, number bigint) RETURNS jsonb LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN jsonb_typeof(value) = 'object' AND value ? field
                THEN jsonb_set(value, ARRAY[field], to_jsonb(number)) ELSE value END
$$;

WITH tied AS (
    SELECT a.id AS entry, r.number
    FROM audit_log a
    JOIN solve_runs r ON r.forum_id = a.forum_id AND r.id::text = a.entity_id
    WHERE a.entity = 'run' AND r.number <> r.id
      AND coalesce(a.after, a.before)->>'id' = a.entity_id
      AND pg_temp.recorded_at(coalesce(a.after, a.before)) = r.created_at
      AND NOT EXISTS (SELECT 1 FROM solve_runs other
                      WHERE other.forum_id = r.forum_id AND other.id <> r.id AND other.created_at = r.created_at)
)
UPDATE audit_log a
    SET entity_id = tied.number::text,
        before = pg_temp.numbered(a.before, 'id', tied.number),
        after = pg_temp.numbered(a.after, 'id', tied.number)
    FROM tied
    WHERE a.id = tied.entry;

-- A publication's entry holds the version's summary; the version names its run (immutably,
-- migration 0004), so a `run_id` equal to that run's id is the old way of naming it.
UPDATE audit_log a
    SET after = pg_temp.numbered(a.after, 'run_id', r.number)
    FROM schedule_versions v
    JOIN solve_runs r ON r.id = v.run_id
    WHERE a.entity = 'schedule' AND a.action = 'publish'
      AND v.forum_id = a.forum_id AND v.number::text = a.entity_id AND r.forum_id = a.forum_id
      AND jsonb_typeof(a.after) = 'object' AND a.after->>'number' = a.entity_id
      AND a.after->>'run_id' = r.id::text AND r.number <> r.id;

WITH tied AS (
    SELECT a.id AS entry, w.number
    FROM audit_log a
    JOIN webhooks w ON w.forum_id = a.forum_id AND w.id::text = a.entity_id
    WHERE a.entity = 'webhook' AND a.action = 'create' AND w.number <> w.id
      AND a.after->>'id' = a.entity_id AND a.after->>'url' = w.url
      AND pg_temp.recorded_at(a.after) = w.created_at
      AND NOT EXISTS (SELECT 1 FROM webhooks other
                      WHERE other.forum_id = w.forum_id AND other.id <> w.id
                        AND other.created_at = w.created_at AND other.url = w.url)
)
UPDATE audit_log a
    SET entity_id = tied.number::text, after = pg_temp.numbered(a.after, 'id', tied.number)
    FROM tied
    WHERE a.id = tied.entry;

-- Before 639d1e3 a run's entries copied its whole record: the worker's lease (`lease_owner`
-- named a worker's host and pid; `lease_expires_at`, `heartbeat_at`) and `version_id`, the
-- version's server-wide id, which counted other forums' versions. The API has shown a run
-- without them since, and with `version`, its version's number in the forum; so do these entries.
CREATE FUNCTION pg_temp.as_shown(value jsonb, forum uuid) RETURNS jsonb LANGUAGE sql STABLE AS $$
    SELECT CASE WHEN jsonb_typeof(value) <> 'object' THEN value
                ELSE (value - 'lease_owner' - 'lease_expires_at' - 'heartbeat_at' - 'version_id')
                     || CASE WHEN value ? 'version_id' THEN jsonb_build_object('version', (
                            SELECT v.number FROM schedule_versions v
                            WHERE v.forum_id = forum AND jsonb_typeof(value->'version_id') = 'number'
                              AND v.id = (value->>'version_id')::bigint))
                        ELSE '{}' END END
$$;

UPDATE audit_log a
    SET before = pg_temp.as_shown(a.before, a.forum_id), after = pg_temp.as_shown(a.after, a.forum_id)
    WHERE a.entity = 'run'
      AND (a.before ?| ARRAY['lease_owner', 'lease_expires_at', 'heartbeat_at', 'version_id']
           OR a.after ?| ARRAY['lease_owner', 'lease_expires_at', 'heartbeat_at', 'version_id']);

DROP FUNCTION pg_temp.as_shown(jsonb, uuid);
DROP FUNCTION pg_temp.recorded_at(jsonb);
DROP FUNCTION pg_temp.numbered(jsonb, text, bigint);
