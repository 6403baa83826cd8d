ALTER TABLE athletes DROP COLUMN demo_client;
