-- The Strava rate-limit budget, shared by every gateway replica (Strava counts per
-- application), and single-use OAuth state nonces.

-- One row per rate-limit window: the quarter hour ('quarter') or the UTC day ('day')
-- starting at window_start. Usage counts requests we sent (counted before sending) and
-- is raised to what Strava's X-RateLimit-Usage / X-ReadRateLimit-Usage headers say.
-- Limits are NULL until a response has told us Strava's figures.
CREATE TABLE strava_rate_windows (
    window_kind   TEXT NOT NULL CHECK (window_kind IN ('quarter', 'day')),
    window_start  TIMESTAMPTZ NOT NULL,
    overall_usage INTEGER NOT NULL DEFAULT 0,
    overall_limit INTEGER,
    read_usage    INTEGER NOT NULL DEFAULT 0,
    read_limit    INTEGER,
    updated_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (window_kind, window_start)
);

-- OAuth `state` nonces already used at /oauth/callback (SHA-256 only), so a state
-- works once; rows outlive the state's expiry only briefly.
CREATE TABLE oauth_states (
    nonce_hash BYTEA PRIMARY KEY,
    used_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    expires_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX oauth_states_expires_idx ON oauth_states (expires_at);
