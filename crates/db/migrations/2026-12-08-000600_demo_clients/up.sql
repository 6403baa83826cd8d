-- Issue 19: one client made every free demo copy in seconds. A copy remembers a keyed
-- hash of the address it was made for (never the address itself), so each client
-- holds a few copies at most, and a full demo recycles the copy idle the longest.
ALTER TABLE athletes ADD COLUMN demo_client BYTEA;
ALTER TABLE athletes ADD CONSTRAINT athletes_demo_client_only_for_demo
    CHECK (demo_client IS NULL OR is_demo);
CREATE INDEX athletes_demo_client_idx ON athletes (demo_client) WHERE demo_client IS NOT NULL;
