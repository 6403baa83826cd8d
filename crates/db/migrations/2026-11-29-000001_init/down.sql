DROP TABLE IF EXISTS messages, conversations, login_tickets, app_sessions, sync_status,
    jobs, webhook_events, activities, strava_tokens, athletes;
-- The role stravatalk_reader is shared by every database of the cluster: it stays.
