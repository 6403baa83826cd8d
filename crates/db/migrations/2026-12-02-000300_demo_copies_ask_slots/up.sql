-- Issue 9: each demo visitor gets a copy of the demo athlete of their own, and every
-- athlete has a bounded number of questions in flight, counted where every talk-app
-- replica sees it.

-- A demo copy: a negative id (Strava's ids are positive, so no real athlete can ever
-- collide with one) and the moment upkeep deletes it. The template demo athlete keeps
-- is_demo with no expiry.
ALTER TABLE athletes ADD COLUMN demo_expires_at TIMESTAMPTZ;
ALTER TABLE athletes ADD CONSTRAINT athletes_demo_expiry_only_for_demo
    CHECK (demo_expires_at IS NULL OR is_demo);
CREATE INDEX athletes_demo_expires_idx ON athletes (demo_expires_at)
    WHERE demo_expires_at IS NOT NULL;
CREATE SEQUENCE demo_copy_athlete_ids AS BIGINT INCREMENT BY -1 MAXVALUE -1 START WITH -1;
-- The copied activities need ids of their own (activities.id is the primary key);
-- negative ones are never Strava's, so no link to Strava is ever made for them.
CREATE SEQUENCE demo_copy_activity_ids AS BIGINT INCREMENT BY -1 MAXVALUE -1 START WITH -1;

-- Deleting an athlete (erasure, expired demo copies) cascades to messages by
-- athlete_id too; without an index each deleted athlete costs a scan of all messages.
CREATE INDEX messages_athlete_idx ON messages (athlete_id);

-- What visitors of the shared demo left behind is visible to every later visitor:
-- their questions, API tokens minted for the demo athlete, their sessions.
DELETE FROM messages WHERE athlete_id IN (SELECT id FROM athletes WHERE is_demo);
DELETE FROM conversations WHERE athlete_id IN (SELECT id FROM athletes WHERE is_demo);
DELETE FROM api_tokens WHERE athlete_id IN (SELECT id FROM athletes WHERE is_demo);
DELETE FROM app_sessions WHERE athlete_id IN (SELECT id FROM athletes WHERE is_demo);
DELETE FROM api_rate_limits WHERE athlete_id IN (SELECT id FROM athletes WHERE is_demo);

-- Questions being answered right now: at most N slots per athlete, each held under a
-- lease (holder, expires_at) so a replica that dies mid-answer frees its slot when
-- the lease lapses.
CREATE TABLE ask_slots (
    athlete_id BIGINT NOT NULL REFERENCES athletes (id) ON DELETE CASCADE,
    slot       SMALLINT NOT NULL CHECK (slot >= 0),
    holder     UUID NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (athlete_id, slot)
);
