-- Workers look up the other events of the same object (to tell whether data they
-- fetched went stale while they fetched it), and the upkeep sweep prunes finished
-- events by age.
CREATE INDEX webhook_events_object_idx ON webhook_events (object_id, object_type);
CREATE INDEX webhook_events_processed_idx ON webhook_events (processed_at)
    WHERE status IN ('done', 'ignored');
