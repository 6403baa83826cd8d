DROP INDEX IF EXISTS webhook_events_processed_idx;
DROP INDEX IF EXISTS webhook_events_object_idx;
