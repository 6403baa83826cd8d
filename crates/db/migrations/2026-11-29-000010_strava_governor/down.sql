DROP TABLE oauth_states;
DROP TABLE strava_rate_windows;
