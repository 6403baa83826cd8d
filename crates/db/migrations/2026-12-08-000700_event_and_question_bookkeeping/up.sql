-- Issue 21: the cost of an event and of a question stays flat as history grows.

-- When an event of each object was last applied. A worker writes an activity only
-- when no other event of it was applied since its fetch began; the upsert on this row
-- both serialises the writers of one object and answers that question, without
-- looking at the object's event history.
CREATE TABLE webhook_objects (
    object_type TEXT NOT NULL CHECK (object_type IN ('activity', 'athlete')),
    object_id   BIGINT NOT NULL,
    applied_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (object_type, object_id)
);

-- Per-object look-ups (settling the pending events an applied fetch covers) touch only
-- live events, however many finished ones the inbox holds.
DROP INDEX webhook_events_object_idx;
CREATE INDEX webhook_events_live_object_idx ON webhook_events (object_id, object_type)
    WHERE status IN ('pending', 'processing');

-- An athlete's in-flight question slots are kept (a slot is taken and freed by
-- updating its row, not by inserting and deleting one), and each names the database
-- session of the process holding it: a slot whose session has ended is free at once,
-- so a process killed mid-answer leaves nothing behind. NULL (slots taken before this
-- migration) falls back to the lease alone.
ALTER TABLE ask_slots ADD COLUMN holder_pid INTEGER;
ALTER TABLE ask_slots ADD COLUMN holder_since TIMESTAMPTZ;

-- The latest plan of a conversation is one index probe, whatever the statistics say.
CREATE INDEX messages_latest_plan_idx ON messages (conversation_id, id DESC)
    WHERE role = 'assistant';
