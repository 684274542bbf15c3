-- Request notices (request.received, request.answered, request.withdrawn, request.changed) go
-- through the same outbox as a publication's schedule.changed: written by the transaction that
-- changes the request, so a rolled-back change leaves none. They belong to no publication.
--
-- A notice's number is still its delegation's own count (migration 0008), now kept on the
-- delegation's row: publishing numbered them max + 1 under the forum's row lock, which request
-- changes do not take (they run side by side). Raising the count with UPDATE ... RETURNING waits
-- for a concurrent writer's commit and reads its count afresh, in the same statement that inserts.
ALTER TABLE notices ALTER COLUMN publication_id DROP NOT NULL;
ALTER TABLE delegations ADD COLUMN notices_written bigint NOT NULL DEFAULT 0;
UPDATE delegations d SET notices_written = written.number
    FROM (SELECT forum_id, delegation_id, max(number) AS number FROM notices GROUP BY forum_id, delegation_id) AS written
    WHERE d.forum_id = written.forum_id AND d.id = written.delegation_id;
