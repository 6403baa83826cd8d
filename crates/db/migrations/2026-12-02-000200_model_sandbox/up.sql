-- The model sandbox: SQL written by a language model runs as stravatalk_model, a role
-- that can read one thing, the view stravatalk_model.activities, and that view shows
-- only the rows of the athlete the application scoped the transaction to. The SQL guard
-- in the application is the first wall; this is the second, so a guard bug alone
-- cannot reach other athletes, other tables or the scope itself.
--
-- Why it holds for raw SQL run as that role (tests/db.rs runs the hostile corpus so):
-- * The SQL runs inside stravatalk_model.run, a SECURITY DEFINER function owned by the
--   role: PostgreSQL refuses to change `role` or `session_authorization` there, so
--   set_config('role', …) cannot climb back to the login role.
-- * The scope is a token in the setting stravatalk.model_scope: the athlete id and a
--   keyed hash of it, this backend and this transaction's start. The role may overwrite
--   the setting but cannot read the key, so it cannot forge another athlete's token;
--   a token is worthless outside its transaction.
-- * The role has no grant on any table; the view (owned by the migrating role) reads
--   public.activities for it.
-- Everything here works for a database owner that is not a superuser (managed
-- PostgreSQL). What stays readable is what PostgreSQL grants to PUBLIC in pg_catalog,
-- which only a superuser could take away; see README.md ("The model sandbox").

DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'stravatalk_model') THEN
        CREATE ROLE stravatalk_model NOLOGIN;
    END IF;
EXCEPTION
    -- Another database in the same cluster created it at the same moment.
    WHEN duplicate_object OR unique_violation THEN NULL;
END
$$;
-- Handing the runner function to the role (below) needs membership in it.
DO $$
BEGIN
    EXECUTE format('GRANT stravatalk_model TO %I', current_user);
EXCEPTION WHEN OTHERS THEN NULL;
END
$$;

CREATE SCHEMA stravatalk_model;
REVOKE ALL ON SCHEMA stravatalk_model FROM PUBLIC;
GRANT USAGE ON SCHEMA stravatalk_model TO stravatalk_model;

-- The key behind scope tokens; only the migrating role can read it.
CREATE TABLE stravatalk_model.scope_key (
    only_row  BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (only_row),
    inner_key BYTEA NOT NULL,
    outer_key BYTEA NOT NULL
);
REVOKE ALL ON stravatalk_model.scope_key FROM PUBLIC;
INSERT INTO stravatalk_model.scope_key (inner_key, outer_key)
VALUES (
    sha256(convert_to(gen_random_uuid()::text || gen_random_uuid()::text || clock_timestamp()::text, 'UTF8')),
    sha256(convert_to(gen_random_uuid()::text || gen_random_uuid()::text || clock_timestamp()::text, 'UTF8'))
);

-- The keyed hash of (athlete, backend, transaction start): two nested hashes with two
-- keys, so appending to a known input gets an attacker nowhere.
CREATE FUNCTION stravatalk_model.scope_mac(athlete BIGINT) RETURNS TEXT
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path = pg_catalog
AS $$
    SELECT encode(sha256(k.outer_key || sha256(k.inner_key || convert_to(
               format('%s/%s/%s', athlete, pg_backend_pid(), (extract(epoch FROM now()) * 1000000)::bigint),
               'UTF8'))), 'hex')
    FROM stravatalk_model.scope_key AS k
$$;
REVOKE ALL ON FUNCTION stravatalk_model.scope_mac(BIGINT) FROM PUBLIC;

-- The token the application puts in stravatalk.model_scope before running model SQL.
CREATE FUNCTION stravatalk_model.scope_token(athlete BIGINT) RETURNS TEXT
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path = pg_catalog
AS $$
    SELECT athlete::text || ':' || stravatalk_model.scope_mac(athlete)
$$;
REVOKE ALL ON FUNCTION stravatalk_model.scope_token(BIGINT) FROM PUBLIC;

-- The athlete the current token names; an error when the token is missing or forged.
CREATE FUNCTION stravatalk_model.scoped_athlete() RETURNS BIGINT
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path = pg_catalog
AS $$
DECLARE
    token   TEXT := current_setting('stravatalk.model_scope', true);
    athlete BIGINT;
BEGIN
    -- Demo copies have negative ids.
    IF token IS NULL OR token !~ '^-?[0-9]{1,18}:[0-9a-f]{64}$' THEN
        RAISE EXCEPTION 'no model scope is set' USING ERRCODE = 'insufficient_privilege';
    END IF;
    athlete := split_part(token, ':', 1)::bigint;
    -- Compare hashes of the two, so the time taken says nothing about the right token.
    IF sha256(convert_to(split_part(token, ':', 2), 'UTF8'))
       <> sha256(convert_to(stravatalk_model.scope_mac(athlete), 'UTF8')) THEN
        RAISE EXCEPTION 'the model scope is not valid' USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN athlete;
END
$$;
REVOKE ALL ON FUNCTION stravatalk_model.scoped_athlete() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION stravatalk_model.scoped_athlete() TO stravatalk_model;

-- The one relation model SQL can read: the scoped athlete's activities, with the
-- columns the model is told about (no raw Strava JSON, no bookkeeping).
CREATE VIEW stravatalk_model.activities WITH (security_barrier) AS
SELECT id, athlete_id, name, sport_type, start_date, start_date_local, timezone,
       distance_m, moving_time_s, elapsed_time_s, total_elevation_gain_m, elev_high_m,
       elev_low_m, average_speed_mps, max_speed_mps, average_heartrate, max_heartrate,
       average_cadence, average_watts, weighted_average_watts, max_watts, kilojoules,
       calories, device_watts, kudos_count, comment_count, achievement_count, pr_count,
       commute, trainer, manual, private, flagged, workout_type, gear_id
FROM public.activities
WHERE athlete_id = (SELECT stravatalk_model.scoped_athlete());
REVOKE ALL ON stravatalk_model.activities FROM PUBLIC;
GRANT SELECT ON stravatalk_model.activities TO stravatalk_model;

-- Runs one query as stravatalk_model and returns its single text value. Whatever the
-- query changes in the session (settings, even with is_local = false) is undone by
-- rolling back to a savepoint before returning.
CREATE FUNCTION stravatalk_model.run(query TEXT) RETURNS TEXT
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = stravatalk_model, pg_catalog, pg_temp
AS $$
DECLARE
    result TEXT;
BEGIN
    BEGIN
        EXECUTE query INTO result;
        RAISE EXCEPTION USING ERRCODE = 'SM001';
    EXCEPTION WHEN SQLSTATE 'SM001' THEN
        NULL;
    END;
    RETURN result;
END
$$;
REVOKE ALL ON FUNCTION stravatalk_model.run(TEXT) FROM PUBLIC;
DO $$
BEGIN
    EXECUTE format('GRANT EXECUTE ON FUNCTION stravatalk_model.run(TEXT) TO %I', current_user);
END
$$;
-- A new owner needs CREATE on the schema at the moment of the change, not after.
GRANT CREATE ON SCHEMA stravatalk_model TO stravatalk_model;
ALTER FUNCTION stravatalk_model.run(TEXT) OWNER TO stravatalk_model;
REVOKE CREATE ON SCHEMA stravatalk_model FROM stravatalk_model;
