-- A run's number in its forum (1, 2, 3 ...) and a webhook's in its delegation: both
-- are in URLs (/forums/{forum}/runs/{run}, .../webhooks/{webhook}) and answers, and
-- the tables' ids are one counter for the whole server, so two runs of a forum told
-- its organiser how many runs other forums had queued in between, and two webhooks
-- told a delegation how many others had registered. As migration 0010 did for
-- publications, the ids stay internal and the numbers are what the API shows.
--
-- A run's number is assigned while its forum's row is locked (runs.insert_run), so
-- two never collide; runs are never deleted one by one, so none is reused. Webhooks
-- are deleted (by their delegation, or with a rotated token): a number freed so must
-- not name a later webhook, so each delegation counts the webhooks it has registered.
-- Numbers given here to existing rows follow their ids; a client holding an old id
-- reads the new numbers from GET .../runs/{run} answers and GET .../webhooks.

ALTER TABLE solve_runs ADD COLUMN number bigint;
UPDATE solve_runs SET number = numbered.number
    FROM (SELECT id, row_number() OVER (PARTITION BY forum_id ORDER BY id) AS number FROM solve_runs) AS numbered
    WHERE solve_runs.id = numbered.id;
ALTER TABLE solve_runs ALTER COLUMN number SET NOT NULL;
ALTER TABLE solve_runs ADD CONSTRAINT solve_runs_number UNIQUE (forum_id, number);

ALTER TABLE webhooks ADD COLUMN number bigint;
UPDATE webhooks SET number = numbered.number
    FROM (SELECT id, row_number() OVER (PARTITION BY forum_id, delegation_id ORDER BY id) AS number
          FROM webhooks) AS numbered
    WHERE webhooks.id = numbered.id;
ALTER TABLE webhooks ALTER COLUMN number SET NOT NULL;
ALTER TABLE webhooks ADD CONSTRAINT webhooks_number UNIQUE (forum_id, delegation_id, number);

ALTER TABLE delegations ADD COLUMN webhooks_registered bigint NOT NULL DEFAULT 0;
UPDATE delegations SET webhooks_registered = counted.number
    FROM (SELECT forum_id, delegation_id, max(number) AS number FROM webhooks GROUP BY forum_id, delegation_id) AS counted
    WHERE delegations.forum_id = counted.forum_id AND delegations.id = counted.delegation_id;
