-- What leaves the system once a grid is published: the publication history,
-- calendar feed keys, and change notices (an outbox, webhooks, their deliveries).
--
-- A publication row, its notices and their deliveries are written in the
-- transaction that publishes the version, so a rolled-back publication leaves
-- no notice behind and a committed one cannot lose its notices.

-- Every act of publishing, in order. `diff` is solver.diff.ScheduleDiff against
-- the previously published version (everything "added" for the first one).
CREATE TABLE publications (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    forum_id uuid NOT NULL REFERENCES forums ON DELETE CASCADE,
    version_id bigint NOT NULL,
    previous_version_id bigint,
    published_at timestamptz NOT NULL DEFAULT now(),
    diff jsonb NOT NULL,
    FOREIGN KEY (forum_id, version_id) REFERENCES schedule_versions (forum_id, id) ON DELETE CASCADE,
    FOREIGN KEY (forum_id, previous_version_id) REFERENCES schedule_versions (forum_id, id) ON DELETE CASCADE
);
CREATE INDEX publications_by_forum ON publications (forum_id, id);

-- A delegation's calendar subscription key, stored as its SHA-256 only. The key
-- is derived from the delegation's token and `generation`, so reading the link
-- again shows the same URL, and rotating (generation + 1) retires the old one.
CREATE TABLE calendar_feeds (
    forum_id uuid NOT NULL,
    delegation_id text NOT NULL,
    generation integer NOT NULL DEFAULT 1,
    key_hash text NOT NULL UNIQUE,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (forum_id, delegation_id),
    FOREIGN KEY (forum_id, delegation_id) REFERENCES delegations ON DELETE CASCADE
);

-- The outbox: one notice per delegation whose meetings a publication changed.
-- `payload` holds only that delegation's own meetings.
CREATE TABLE notices (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    forum_id uuid NOT NULL,
    delegation_id text NOT NULL,
    publication_id bigint NOT NULL REFERENCES publications ON DELETE CASCADE,
    payload jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (forum_id, delegation_id) REFERENCES delegations ON DELETE CASCADE,
    UNIQUE (publication_id, delegation_id)
);
CREATE INDEX notices_by_delegation ON notices (forum_id, delegation_id, id);

-- The secret signs deliveries (HMAC-SHA256), so it is kept as issued: it cannot be a hash.
CREATE TABLE webhooks (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    forum_id uuid NOT NULL,
    delegation_id text NOT NULL,
    url text NOT NULL,
    secret text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (forum_id, delegation_id) REFERENCES delegations ON DELETE CASCADE
);
CREATE INDEX webhooks_by_delegation ON webhooks (forum_id, delegation_id);

-- One delivery per notice and webhook; the dispatcher takes due ones with SKIP
-- LOCKED and pushes `next_attempt_at` forward (exponential back-off) on failure.
CREATE TABLE webhook_deliveries (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    notice_id bigint NOT NULL REFERENCES notices ON DELETE CASCADE,
    webhook_id bigint NOT NULL REFERENCES webhooks ON DELETE CASCADE,
    status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    delivered_at timestamptz,
    UNIQUE (notice_id, webhook_id)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';

-- Every attempt, for the delegation's (and the operator's) inspection.
CREATE TABLE webhook_attempts (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    delivery_id bigint NOT NULL REFERENCES webhook_deliveries ON DELETE CASCADE,
    at timestamptz NOT NULL DEFAULT now(),
    status_code integer,
    error text
);
CREATE INDEX webhook_attempts_by_delivery ON webhook_attempts (delivery_id, id);
