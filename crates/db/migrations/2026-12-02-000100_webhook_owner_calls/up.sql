-- Strava calls spent on each athlete's webhook events per quarter hour. Events are
-- unsigned, so a burst for one athlete (real or forged) is capped here before it can
-- spend the application-wide budget every athlete shares. Kept in Postgres so every
-- gateway replica counts against one cap.
CREATE TABLE webhook_owner_calls (
    owner_id     BIGINT NOT NULL,
    window_start TIMESTAMPTZ NOT NULL,
    calls        INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (owner_id, window_start)
);
