-- Issue 19: an activity id is unique per owner, not across the database. With the id
-- alone as the key, an upload holding a Strava athlete's activity ids (sequential,
-- easy to guess) claimed them before that athlete connected: their backfill then
-- stored nothing. Keyed by (athlete_id, id), what one account stores can never claim,
-- hide or overwrite another's rows, and an import tells nobody which ids exist.
ALTER TABLE activities DROP CONSTRAINT activities_pkey;
ALTER TABLE activities ADD PRIMARY KEY (athlete_id, id);
