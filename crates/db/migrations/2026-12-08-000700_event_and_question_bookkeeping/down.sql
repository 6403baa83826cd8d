DROP INDEX messages_latest_plan_idx;
ALTER TABLE ask_slots DROP COLUMN holder_since;
ALTER TABLE ask_slots DROP COLUMN holder_pid;
DROP INDEX webhook_events_live_object_idx;
CREATE INDEX webhook_events_object_idx ON webhook_events (object_id, object_type);
DROP TABLE webhook_objects;
