-- Issue 23: what athletes ask about that we did not store. The device an activity was
-- recorded with; the athlete's gear by name (bikes and shoes from Strava's athlete and
-- gear endpoints, or the export's "Activity Gear" column); and best efforts, the
-- fastest stretch of each standard distance within an activity (Strava's
-- DetailedActivity.best_efforts, or computed from an export's GPS files).
ALTER TABLE activities ADD COLUMN device_name TEXT;
-- When the activity's DetailedActivity was stored; NULL for rows only listed so far
-- (the details job fetches those, newest first).
ALTER TABLE activities ADD COLUMN details_fetched_at TIMESTAMPTZ;
CREATE INDEX activities_details_due_idx ON activities (athlete_id, start_date DESC)
    WHERE source = 'api' AND details_fetched_at IS NULL;

CREATE TABLE gear (
    athlete_id  BIGINT NOT NULL REFERENCES athletes (id) ON DELETE CASCADE,
    -- Strava's gear id ("b12345", "g12345"); an export names gear only, so its gear
    -- is keyed "export:" followed by the name.
    id          TEXT NOT NULL,
    name        TEXT NOT NULL,
    kind        TEXT CHECK (kind IN ('bike', 'shoes')),
    is_primary  BOOLEAN NOT NULL DEFAULT FALSE,
    retired     BOOLEAN NOT NULL DEFAULT FALSE,
    -- Strava's own total for the gear, metres; NULL where Strava did not say.
    distance_m  DOUBLE PRECISION,
    source      TEXT NOT NULL CHECK (source IN ('api', 'import', 'demo')),
    fetched_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (athlete_id, id)
);

CREATE TABLE best_efforts (
    athlete_id       BIGINT NOT NULL,
    activity_id      BIGINT NOT NULL,
    -- Strava's name of the distance: "400m", "1/2 mile", "1k", "1 mile", "2 mile",
    -- "5k", "10k", "15k", "10 mile", "20k", "Half-Marathon", "30k", "Marathon", "50k".
    name             TEXT NOT NULL,
    distance_m       DOUBLE PRECISION NOT NULL,
    elapsed_time_s   INTEGER NOT NULL,
    moving_time_s    INTEGER NOT NULL,
    start_date       TIMESTAMPTZ NOT NULL,
    start_date_local TIMESTAMP NOT NULL,
    -- 1 to 3 when Strava ranked it among the athlete's three best at the time; NULL
    -- otherwise and for efforts computed from GPS files.
    pr_rank          INTEGER,
    source           TEXT NOT NULL CHECK (source IN ('api', 'import', 'demo')),
    PRIMARY KEY (athlete_id, activity_id, distance_m),
    FOREIGN KEY (athlete_id, activity_id) REFERENCES activities (athlete_id, id) ON DELETE CASCADE
);
CREATE INDEX best_efforts_athlete_distance_idx ON best_efforts (athlete_id, distance_m, elapsed_time_s);

-- The built-in engine reads them as it reads activities: one athlete's rows only.
GRANT SELECT ON gear, best_efforts TO stravatalk_reader;
ALTER TABLE gear ENABLE ROW LEVEL SECURITY;
ALTER TABLE gear FORCE ROW LEVEL SECURITY;
ALTER TABLE best_efforts ENABLE ROW LEVEL SECURITY;
ALTER TABLE best_efforts FORCE ROW LEVEL SECURITY;
CREATE POLICY reader_own_rows ON gear FOR SELECT TO stravatalk_reader
    USING (athlete_id = nullif(current_setting('stravatalk.athlete_id', true), '')::bigint);
CREATE POLICY reader_own_rows ON best_efforts FOR SELECT TO stravatalk_reader
    USING (athlete_id = nullif(current_setting('stravatalk.athlete_id', true), '')::bigint);
CREATE POLICY service_all_rows ON gear
    USING (current_user <> 'stravatalk_reader') WITH CHECK (current_user <> 'stravatalk_reader');
CREATE POLICY service_all_rows ON best_efforts
    USING (current_user <> 'stravatalk_reader') WITH CHECK (current_user <> 'stravatalk_reader');

-- The model's view follows domain::fields::ACTIVITY_COLUMNS (its `model` columns), and
-- a test holds it and the model's prompt to that list.
DROP VIEW stravatalk_model.activities;
CREATE VIEW stravatalk_model.activities WITH (security_barrier) AS
SELECT id, athlete_id, name, sport_type, start_date, start_date_local, timezone,
       distance_m, moving_time_s, elapsed_time_s, total_elevation_gain_m, elev_high_m,
       elev_low_m, average_speed_mps, max_speed_mps, average_heartrate, max_heartrate,
       average_cadence, average_watts, weighted_average_watts, max_watts, kilojoules,
       calories, device_watts, kudos_count, comment_count, achievement_count, pr_count,
       commute, trainer, manual, private, flagged, workout_type, gear_id, device_name
FROM public.activities
WHERE athlete_id = (SELECT stravatalk_model.scoped_athlete());
REVOKE ALL ON stravatalk_model.activities FROM PUBLIC;
GRANT SELECT ON stravatalk_model.activities TO stravatalk_model;
