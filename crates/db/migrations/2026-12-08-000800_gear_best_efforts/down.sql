DROP VIEW stravatalk_model.activities;
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
DROP TABLE best_efforts;
DROP TABLE gear;
ALTER TABLE activities DROP COLUMN details_fetched_at;
ALTER TABLE activities DROP COLUMN device_name;
