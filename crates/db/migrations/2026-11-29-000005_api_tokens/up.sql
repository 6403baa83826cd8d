-- Personal API tokens for POST /api/ask. Only the SHA-256 of a token is kept; the
-- plaintext is shown once, when it is created.
CREATE TABLE api_tokens (
    id           UUID PRIMARY KEY,
    athlete_id   BIGINT NOT NULL REFERENCES athletes (id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    token_hash   BYTEA NOT NULL UNIQUE,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    last_used_at TIMESTAMPTZ,
    revoked_at   TIMESTAMPTZ
);
CREATE INDEX api_tokens_athlete_idx ON api_tokens (athlete_id);

-- Fixed-window request counters per athlete, so every talk-app replica enforces one
-- limit on /api/ask (no in-process state needed for correctness).
CREATE TABLE api_rate_limits (
    athlete_id   BIGINT NOT NULL REFERENCES athletes (id) ON DELETE CASCADE,
    window_start TIMESTAMPTZ NOT NULL,
    hits         INT NOT NULL,
    PRIMARY KEY (athlete_id, window_start)
);
