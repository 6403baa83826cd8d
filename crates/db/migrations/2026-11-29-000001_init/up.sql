-- StravaTalk's first schema: athletes and their Strava credentials, activities,
-- the webhook inbox, the job queue, sync progress, sessions and chats.

CREATE TABLE athletes (
    id                     BIGINT PRIMARY KEY,
    firstname              TEXT NOT NULL DEFAULT '',
    lastname               TEXT NOT NULL DEFAULT '',
    measurement_preference TEXT NOT NULL DEFAULT 'meters'
                           CHECK (measurement_preference IN ('meters', 'feet')),
    -- The athlete's own choice in settings; NULL follows Strava.
    units_override         TEXT CHECK (units_override IN ('meters', 'feet')),
    -- Strava's label, e.g. '(GMT+01:00) Europe/Paris'.
    timezone               TEXT,
    needs_reconnect        BOOLEAN NOT NULL DEFAULT FALSE,
    is_demo                BOOLEAN NOT NULL DEFAULT FALSE,
    created_at             TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at             TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- Ciphertext only: each column holds nonce || AEAD ciphertext.
CREATE TABLE strava_tokens (
    athlete_id        BIGINT PRIMARY KEY REFERENCES athletes (id) ON DELETE CASCADE,
    access_token_enc  BYTEA NOT NULL,
    refresh_token_enc BYTEA NOT NULL,
    expires_at        TIMESTAMPTZ NOT NULL,
    scopes            TEXT NOT NULL DEFAULT '',
    updated_at        TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE activities (
    id                     BIGINT PRIMARY KEY,
    athlete_id             BIGINT NOT NULL REFERENCES athletes (id) ON DELETE CASCADE,
    name                   TEXT NOT NULL,
    sport_type             TEXT NOT NULL,
    start_date             TIMESTAMPTZ NOT NULL,
    start_date_local       TIMESTAMP NOT NULL,
    timezone               TEXT,
    distance_m             DOUBLE PRECISION NOT NULL DEFAULT 0,
    moving_time_s          INTEGER NOT NULL DEFAULT 0,
    elapsed_time_s         INTEGER NOT NULL DEFAULT 0,
    total_elevation_gain_m DOUBLE PRECISION NOT NULL DEFAULT 0,
    elev_high_m            DOUBLE PRECISION,
    elev_low_m             DOUBLE PRECISION,
    average_speed_mps      DOUBLE PRECISION NOT NULL DEFAULT 0,
    max_speed_mps          DOUBLE PRECISION NOT NULL DEFAULT 0,
    average_heartrate      DOUBLE PRECISION,
    max_heartrate          DOUBLE PRECISION,
    average_cadence        DOUBLE PRECISION,
    average_watts          DOUBLE PRECISION,
    weighted_average_watts INTEGER,
    max_watts              INTEGER,
    kilojoules             DOUBLE PRECISION,
    calories               DOUBLE PRECISION,
    device_watts           BOOLEAN NOT NULL DEFAULT FALSE,
    kudos_count            INTEGER NOT NULL DEFAULT 0,
    comment_count          INTEGER NOT NULL DEFAULT 0,
    achievement_count      INTEGER NOT NULL DEFAULT 0,
    pr_count               INTEGER NOT NULL DEFAULT 0,
    commute                BOOLEAN NOT NULL DEFAULT FALSE,
    trainer                BOOLEAN NOT NULL DEFAULT FALSE,
    manual                 BOOLEAN NOT NULL DEFAULT FALSE,
    private                BOOLEAN NOT NULL DEFAULT FALSE,
    flagged                BOOLEAN NOT NULL DEFAULT FALSE,
    workout_type           INTEGER,
    gear_id                TEXT,
    source                 TEXT NOT NULL CHECK (source IN ('api', 'import', 'demo')),
    -- The object as Strava sent it, for fields we do not model yet.
    raw                    JSONB,
    fetched_at             TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX activities_athlete_local_idx ON activities (athlete_id, start_date_local);
CREATE INDEX activities_athlete_sport_idx ON activities (athlete_id, sport_type, start_date_local);
-- Retention sweeps look for the oldest API rows.
CREATE INDEX activities_api_fetched_idx ON activities (fetched_at) WHERE source = 'api';

-- Webhook inbox: every acknowledged event is a row before Strava gets its 200.
CREATE TABLE webhook_events (
    id              BIGSERIAL PRIMARY KEY,
    dedupe_key      TEXT NOT NULL UNIQUE,
    subscription_id BIGINT NOT NULL,
    object_type     TEXT NOT NULL CHECK (object_type IN ('activity', 'athlete')),
    object_id       BIGINT NOT NULL,
    aspect_type     TEXT NOT NULL CHECK (aspect_type IN ('create', 'update', 'delete')),
    owner_id        BIGINT NOT NULL,
    event_time      BIGINT NOT NULL,
    updates         JSONB NOT NULL DEFAULT '{}'::jsonb,
    status          TEXT NOT NULL DEFAULT 'pending'
                    CHECK (status IN ('pending', 'processing', 'done', 'ignored', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    lease_until     TIMESTAMPTZ,
    last_error      TEXT,
    received_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    processed_at    TIMESTAMPTZ
);
CREATE INDEX webhook_events_due_idx ON webhook_events (next_attempt_at)
    WHERE status IN ('pending', 'processing');

-- Background jobs, claimed with FOR UPDATE SKIP LOCKED; a lease lets another
-- worker take over a job whose worker died.
CREATE TABLE jobs (
    id           BIGSERIAL PRIMARY KEY,
    kind         TEXT NOT NULL,
    payload      JSONB NOT NULL DEFAULT '{}'::jsonb,
    -- At most one queued or running job per key (e.g. one backfill per athlete).
    dedupe_key   TEXT,
    state        TEXT NOT NULL DEFAULT 'queued'
                 CHECK (state IN ('queued', 'running', 'done', 'failed')),
    run_after    TIMESTAMPTZ NOT NULL DEFAULT now(),
    attempts     INTEGER NOT NULL DEFAULT 0,
    max_attempts INTEGER NOT NULL DEFAULT 10,
    lease_until  TIMESTAMPTZ,
    last_error   TEXT,
    progress     JSONB,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at   TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX jobs_active_dedupe_idx ON jobs (dedupe_key)
    WHERE dedupe_key IS NOT NULL AND state IN ('queued', 'running');
CREATE INDEX jobs_due_idx ON jobs (run_after) WHERE state IN ('queued', 'running');

CREATE TABLE sync_status (
    athlete_id        BIGINT PRIMARY KEY REFERENCES athletes (id) ON DELETE CASCADE,
    state             TEXT NOT NULL DEFAULT 'idle'
                      CHECK (state IN ('idle', 'backfilling', 'done', 'error')),
    pages_fetched     INTEGER NOT NULL DEFAULT 0,
    activities_synced INTEGER NOT NULL DEFAULT 0,
    estimated_total   INTEGER,
    -- Resume point of the backfill: page number of the next page to fetch.
    next_page         INTEGER NOT NULL DEFAULT 1,
    last_synced_at    TIMESTAMPTZ,
    last_error        TEXT,
    updated_at        TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE app_sessions (
    id           UUID PRIMARY KEY,
    athlete_id   BIGINT NOT NULL REFERENCES athletes (id) ON DELETE CASCADE,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    expires_at   TIMESTAMPTZ NOT NULL,
    revoked_at   TIMESTAMPTZ,
    last_seen_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX app_sessions_athlete_idx ON app_sessions (athlete_id);

-- Single-use hand-off from the gateway to talk-app; only a hash of the ticket is kept.
CREATE TABLE login_tickets (
    ticket_hash BYTEA PRIMARY KEY,
    athlete_id  BIGINT NOT NULL REFERENCES athletes (id) ON DELETE CASCADE,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    expires_at  TIMESTAMPTZ NOT NULL,
    used_at     TIMESTAMPTZ
);
CREATE INDEX login_tickets_athlete_idx ON login_tickets (athlete_id);

CREATE TABLE conversations (
    id         UUID PRIMARY KEY,
    athlete_id BIGINT NOT NULL REFERENCES athletes (id) ON DELETE CASCADE,
    title      TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX conversations_athlete_idx ON conversations (athlete_id, updated_at DESC);

CREATE TABLE messages (
    id              BIGSERIAL PRIMARY KEY,
    conversation_id UUID NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    -- Repeated from the conversation so row-level security needs no join.
    athlete_id      BIGINT NOT NULL REFERENCES athletes (id) ON DELETE CASCADE,
    role            TEXT NOT NULL CHECK (role IN ('user', 'assistant')),
    content         TEXT NOT NULL,
    answer          JSONB,
    plan            JSONB,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX messages_conversation_idx ON messages (conversation_id, id);

-- Row-level security. Questions run as the role stravatalk_reader, inside a
-- read-only transaction whose setting stravatalk.athlete_id names the athlete;
-- that role sees only that athlete's rows. The services' own login role keeps
-- full access (FORCE makes the owner go through the policies too).
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'stravatalk_reader') THEN
        CREATE ROLE stravatalk_reader NOLOGIN;
    END IF;
EXCEPTION
    -- Another database in the same cluster created it at the same moment.
    WHEN duplicate_object OR unique_violation THEN NULL;
END
$$;
-- Lets a non-superuser service role switch to the reader role.
DO $$
BEGIN
    EXECUTE format('GRANT stravatalk_reader TO %I', current_user);
EXCEPTION WHEN OTHERS THEN NULL;
END
$$;

GRANT USAGE ON SCHEMA public TO stravatalk_reader;
GRANT SELECT ON activities, conversations, messages TO stravatalk_reader;

ALTER TABLE activities ENABLE ROW LEVEL SECURITY;
ALTER TABLE activities FORCE ROW LEVEL SECURITY;
ALTER TABLE conversations ENABLE ROW LEVEL SECURITY;
ALTER TABLE conversations FORCE ROW LEVEL SECURITY;
ALTER TABLE messages ENABLE ROW LEVEL SECURITY;
ALTER TABLE messages FORCE ROW LEVEL SECURITY;

CREATE POLICY reader_own_rows ON activities FOR SELECT TO stravatalk_reader
    USING (athlete_id = nullif(current_setting('stravatalk.athlete_id', true), '')::bigint);
CREATE POLICY reader_own_rows ON conversations FOR SELECT TO stravatalk_reader
    USING (athlete_id = nullif(current_setting('stravatalk.athlete_id', true), '')::bigint);
CREATE POLICY reader_own_rows ON messages FOR SELECT TO stravatalk_reader
    USING (athlete_id = nullif(current_setting('stravatalk.athlete_id', true), '')::bigint);

CREATE POLICY service_all_rows ON activities
    USING (current_user <> 'stravatalk_reader') WITH CHECK (current_user <> 'stravatalk_reader');
CREATE POLICY service_all_rows ON conversations
    USING (current_user <> 'stravatalk_reader') WITH CHECK (current_user <> 'stravatalk_reader');
CREATE POLICY service_all_rows ON messages
    USING (current_user <> 'stravatalk_reader') WITH CHECK (current_user <> 'stravatalk_reader');
