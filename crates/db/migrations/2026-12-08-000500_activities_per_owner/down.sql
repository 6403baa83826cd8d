-- Fails while two owners hold the same id, which is what the key above allows.
ALTER TABLE activities DROP CONSTRAINT activities_pkey;
ALTER TABLE activities ADD PRIMARY KEY (id);
