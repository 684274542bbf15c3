-- A notice's id as its delegation sees it: 1, 2, 3 ... per delegation. The table's
-- own id is one counter for the whole server, so the gap between two of a
-- delegation's notices counted the notices written to others in between (which
-- of its counterparts' meetings a publication changed). Numbers are assigned
-- while the publisher holds the forum's row lock, so they never collide.

ALTER TABLE notices ADD COLUMN number bigint;
UPDATE notices SET number = numbered.number
    FROM (SELECT id, row_number() OVER (PARTITION BY forum_id, delegation_id ORDER BY id) AS number
          FROM notices) AS numbered
    WHERE notices.id = numbered.id;
ALTER TABLE notices ALTER COLUMN number SET NOT NULL;
ALTER TABLE notices ADD CONSTRAINT notices_number UNIQUE (forum_id, delegation_id, number);
