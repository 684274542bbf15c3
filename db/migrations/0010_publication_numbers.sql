-- A publication's number in its forum: 1, 2, 3 ... A delegation's notices named
-- their publication by the table's id, one counter for the whole server, so two
-- of its notices told it how many publications other forums had in between (and
-- the organiser's publication list did the same). Numbers are assigned while the
-- publisher holds the forum's row lock, so they never collide. Notices stored
-- before this carry the id in their payload: they are given the number instead.

ALTER TABLE publications ADD COLUMN number bigint;
UPDATE publications SET number = numbered.number
    FROM (SELECT id, row_number() OVER (PARTITION BY forum_id ORDER BY id) AS number FROM publications) AS numbered
    WHERE publications.id = numbered.id;
ALTER TABLE publications ALTER COLUMN number SET NOT NULL;
ALTER TABLE publications ADD CONSTRAINT publications_number UNIQUE (forum_id, number);

UPDATE notices SET payload = jsonb_set(notices.payload, '{publication}', to_jsonb(p.number))
    FROM publications p
    WHERE p.id = notices.publication_id AND notices.payload ? 'publication';
