-- Core schema: forums and everything organisers and delegations enter, meeting
-- requests, stored schedules, the audit log and idempotency keys.
--
-- Times entered for a forum (sessions, windows, arrivals) are wall-clock times in
-- the forum's time zone, stored as `timestamp` exactly as the solver model reads
-- them. Instants (deadlines, audit times, stored placements) are `timestamptz`.
--
-- Double-booking in a stored schedule is forbidden by GiST exclusion constraints.
-- They use the built-in range operator class (`=` on ranges) rather than the
-- btree_gist extension, because the PostgreSQL 16 that pgserver embeds ships
-- without btree_gist: a key k is compared as the one-point range [k, k].
-- Every table that a client changes carries a `version` for ETags.

CREATE TYPE idrange AS RANGE (subtype = text, collation = "C");

CREATE TABLE forums (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name text NOT NULL,
    time_zone text NOT NULL,
    slot_minutes integer NOT NULL CHECK (slot_minutes BETWEEN 1 AND 240),
    days jsonb NOT NULL,
    request_deadline timestamptz,
    organiser_token_hash text NOT NULL UNIQUE,
    version integer NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE programme_sessions (
    forum_id uuid NOT NULL REFERENCES forums ON DELETE CASCADE,
    id text NOT NULL,
    name text NOT NULL,
    "start" timestamp NOT NULL,
    "end" timestamp NOT NULL CHECK ("end" > "start"),
    scope text NOT NULL CHECK (scope IN ('everyone', 'principals', 'listed')),
    participants jsonb NOT NULL DEFAULT '[]',
    version integer NOT NULL DEFAULT 1,
    PRIMARY KEY (forum_id, id)
);

CREATE TABLE venues (
    forum_id uuid NOT NULL REFERENCES forums ON DELETE CASCADE,
    id text NOT NULL,
    name text NOT NULL,
    version integer NOT NULL DEFAULT 1,
    PRIMARY KEY (forum_id, id)
);

-- One row per unordered pair of venues; id is "a~b" with a < b.
CREATE TABLE travel (
    forum_id uuid NOT NULL REFERENCES forums ON DELETE CASCADE,
    id text NOT NULL,
    between jsonb NOT NULL,
    minutes integer NOT NULL CHECK (minutes >= 0),
    version integer NOT NULL DEFAULT 1,
    PRIMARY KEY (forum_id, id)
);

CREATE TABLE rooms (
    forum_id uuid NOT NULL REFERENCES forums ON DELETE CASCADE,
    id text NOT NULL,
    name text NOT NULL,
    seats integer NOT NULL CHECK (seats > 0),
    venue text,
    features jsonb NOT NULL DEFAULT '[]',
    unavailable jsonb NOT NULL DEFAULT '[]',
    version integer NOT NULL DEFAULT 1,
    PRIMARY KEY (forum_id, id),
    FOREIGN KEY (forum_id, venue) REFERENCES venues (forum_id, id)
);

CREATE TABLE resources (
    forum_id uuid NOT NULL REFERENCES forums ON DELETE CASCADE,
    id text NOT NULL,
    name text NOT NULL,
    capacity integer NOT NULL CHECK (capacity > 0),
    version integer NOT NULL DEFAULT 1,
    PRIMARY KEY (forum_id, id)
);

CREATE TABLE delegations (
    forum_id uuid NOT NULL REFERENCES forums ON DELETE CASCADE,
    id text NOT NULL,
    name text NOT NULL,
    country text NOT NULL,
    token_hash text NOT NULL UNIQUE,
    version integer NOT NULL DEFAULT 1,
    PRIMARY KEY (forum_id, id)
);

-- Participant ids are unique within their delegation only, so that one
-- delegation cannot probe another's ids; the solver sees "delegation/participant".
CREATE TABLE participants (
    forum_id uuid NOT NULL,
    delegation_id text NOT NULL,
    id text NOT NULL,
    name text NOT NULL,
    rank text NOT NULL,
    principal boolean NOT NULL DEFAULT false,
    arrival timestamp,
    departure timestamp,
    blocked jsonb NOT NULL DEFAULT '[]',
    max_meetings_per_day integer CHECK (max_meetings_per_day > 0),
    buffer_minutes integer NOT NULL DEFAULT 0 CHECK (buffer_minutes >= 0),
    version integer NOT NULL DEFAULT 1,
    PRIMARY KEY (forum_id, delegation_id, id),
    FOREIGN KEY (forum_id, delegation_id) REFERENCES delegations ON DELETE CASCADE,
    CHECK (departure IS NULL OR arrival IS NULL OR departure > arrival)
);

-- requester_id is the asking delegation; NULL when the organiser created the
-- request (host-nation calls). The request's status is derived from its parties.
CREATE TABLE meeting_requests (
    forum_id uuid NOT NULL REFERENCES forums ON DELETE CASCADE,
    id text NOT NULL,
    title text NOT NULL DEFAULT '',
    duration_minutes integer NOT NULL CHECK (duration_minutes > 0),
    priority text NOT NULL CHECK (priority IN ('must', 'high', 'normal', 'low')),
    preferred jsonb NOT NULL DEFAULT '[]',
    created_by text NOT NULL CHECK (created_by IN ('organiser', 'delegation')),
    requester_id text,
    withdrawn_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    version integer NOT NULL DEFAULT 1,
    PRIMARY KEY (forum_id, id),
    FOREIGN KEY (forum_id, requester_id) REFERENCES delegations ON DELETE CASCADE,
    CHECK ((created_by = 'delegation') = (requester_id IS NOT NULL))
);

CREATE TABLE request_parties (
    forum_id uuid NOT NULL,
    request_id text NOT NULL,
    delegation_id text NOT NULL,
    role text NOT NULL CHECK (role IN ('requester', 'invitee')),
    status text NOT NULL CHECK (status IN ('pending', 'accepted', 'declined')),
    attendees text[] NOT NULL DEFAULT '{}',
    responded_at timestamptz,
    PRIMARY KEY (forum_id, request_id, delegation_id),
    FOREIGN KEY (forum_id, request_id) REFERENCES meeting_requests ON DELETE CASCADE,
    FOREIGN KEY (forum_id, delegation_id) REFERENCES delegations ON DELETE CASCADE
);
CREATE INDEX request_parties_by_delegation ON request_parties (forum_id, delegation_id);

-- A stored schedule is immutable: only its published flag may change.
CREATE TABLE schedule_versions (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    forum_id uuid NOT NULL REFERENCES forums ON DELETE CASCADE,
    number integer NOT NULL,
    schedule jsonb NOT NULL DEFAULT '{}',
    published boolean NOT NULL DEFAULT false,
    published_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (forum_id, number),
    UNIQUE (forum_id, id)
);

CREATE TABLE schedule_placements (
    version_id bigint NOT NULL,
    forum_id uuid NOT NULL,
    meeting_id text NOT NULL,
    room_id text NOT NULL,
    during tstzrange NOT NULL CHECK (NOT isempty(during)),
    PRIMARY KEY (version_id, meeting_id),
    UNIQUE (version_id, meeting_id, during),
    FOREIGN KEY (forum_id, version_id) REFERENCES schedule_versions (forum_id, id) ON DELETE CASCADE,
    FOREIGN KEY (forum_id, room_id) REFERENCES rooms (forum_id, id),
    FOREIGN KEY (forum_id, meeting_id) REFERENCES meeting_requests (forum_id, id),
    CONSTRAINT no_room_double_booking EXCLUDE USING gist (
        int8range(version_id, version_id, '[]') WITH =,
        idrange(room_id, room_id, '[]') WITH =,
        during WITH &&
    )
);

-- One row per attending participant; `during` must be its meeting's time.
CREATE TABLE schedule_attendance (
    version_id bigint NOT NULL,
    forum_id uuid NOT NULL,
    meeting_id text NOT NULL,
    delegation_id text NOT NULL,
    participant_id text NOT NULL,
    during tstzrange NOT NULL,
    PRIMARY KEY (version_id, meeting_id, delegation_id, participant_id),
    FOREIGN KEY (version_id, meeting_id, during)
        REFERENCES schedule_placements (version_id, meeting_id, during) ON DELETE CASCADE,
    FOREIGN KEY (forum_id, delegation_id, participant_id) REFERENCES participants (forum_id, delegation_id, id),
    CONSTRAINT no_participant_double_booking EXCLUDE USING gist (
        int8range(version_id, version_id, '[]') WITH =,
        idrange(delegation_id, delegation_id, '[]') WITH =,
        idrange(participant_id, participant_id, '[]') WITH =,
        during WITH &&
    )
);

CREATE FUNCTION forbid_schedule_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'stored schedules are immutable' USING ERRCODE = 'integrity_constraint_violation';
END
$$;
CREATE FUNCTION allow_publishing_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF (NEW.id, NEW.forum_id, NEW.number, NEW.schedule, NEW.created_at)
       IS DISTINCT FROM (OLD.id, OLD.forum_id, OLD.number, OLD.schedule, OLD.created_at) THEN
        RAISE EXCEPTION 'stored schedules are immutable' USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER schedule_versions_immutable BEFORE UPDATE ON schedule_versions
    FOR EACH ROW EXECUTE FUNCTION allow_publishing_only();
CREATE TRIGGER schedule_placements_immutable BEFORE UPDATE ON schedule_placements
    FOR EACH ROW EXECUTE FUNCTION forbid_schedule_change();
CREATE TRIGGER schedule_attendance_immutable BEFORE UPDATE ON schedule_attendance
    FOR EACH ROW EXECUTE FUNCTION forbid_schedule_change();

CREATE TABLE audit_log (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    forum_id uuid REFERENCES forums ON DELETE CASCADE,
    actor text NOT NULL,
    action text NOT NULL,
    entity text NOT NULL,
    entity_id text NOT NULL,
    before jsonb,
    after jsonb,
    at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX audit_log_by_forum ON audit_log (forum_id, id);

-- The first answer to a POST with an Idempotency-Key, replayed on a retry.
-- Tokens are never stored here: token-issuing answers are kept without them.
CREATE TABLE idempotency_keys (
    actor text NOT NULL,
    key text NOT NULL,
    request_hash text NOT NULL,
    status integer NOT NULL,
    body bytea NOT NULL,
    headers jsonb NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (actor, key)
);
