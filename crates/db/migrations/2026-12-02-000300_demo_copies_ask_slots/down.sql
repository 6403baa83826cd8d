DROP TABLE IF EXISTS ask_slots;
DROP INDEX IF EXISTS messages_athlete_idx;
DELETE FROM athletes WHERE demo_expires_at IS NOT NULL;
DROP SEQUENCE IF EXISTS demo_copy_activity_ids;
DROP SEQUENCE IF EXISTS demo_copy_athlete_ids;
DROP INDEX IF EXISTS athletes_demo_expires_idx;
ALTER TABLE athletes DROP CONSTRAINT IF EXISTS athletes_demo_expiry_only_for_demo;
ALTER TABLE athletes DROP COLUMN IF EXISTS demo_expires_at;
