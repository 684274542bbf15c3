-- The SEQUENCE each event of a delegation's calendar feed was last served with, and
-- a hash of what it showed (every property but DTSTAMP and SEQUENCE). Counting the
-- publications that moved a meeting missed what changes without moving it: a
-- counterpart leaving a meeting of three (SUMMARY), a room or a delegation renamed
-- (LOCATION, SUMMARY), the forum renamed (DESCRIPTION); calendar apps ignore a
-- changed event whose SEQUENCE did not rise (RFC 5545 3.8.7.4). A feed read that
-- shows an event differently from the last one raises its SEQUENCE once; a read
-- that shows it unchanged serves the same number.

CREATE TABLE calendar_event_sequences (
    forum_id uuid NOT NULL,
    delegation_id text NOT NULL,
    meeting_id text NOT NULL,  -- no foreign key: a withdrawn meeting stays in the feed, cancelled
    fingerprint text NOT NULL,
    sequence integer NOT NULL CHECK (sequence >= 0),
    PRIMARY KEY (forum_id, delegation_id, meeting_id),
    FOREIGN KEY (forum_id, delegation_id) REFERENCES delegations ON DELETE CASCADE
);
