-- Issue 11: an athlete uploads Strava's export archive in talk-app; the gateway's
-- worker imports it. The services share only the database, so the file travels here.

-- One upload: who sent it, how it went, and the summary the athlete is shown. The row
-- stays after the import (the summary); the file's bytes do not.
CREATE TABLE uploads (
    id          BIGSERIAL PRIMARY KEY,
    athlete_id  BIGINT NOT NULL REFERENCES athletes (id) ON DELETE CASCADE,
    filename    TEXT NOT NULL,
    size_bytes  BIGINT NOT NULL CHECK (size_bytes >= 0),
    state       TEXT NOT NULL DEFAULT 'queued'
                CHECK (state IN ('queued', 'importing', 'done', 'failed')),
    summary     JSONB,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    finished_at TIMESTAMPTZ
);
CREATE INDEX uploads_athlete_idx ON uploads (athlete_id, id);

-- The file in pieces of at most a mebibyte, so neither service ever holds the whole
-- file in memory: talk-app writes each piece as it arrives, the worker reads them in
-- order into a file on disk. Deleted once the import ends, whatever its outcome.
CREATE TABLE upload_chunks (
    upload_id BIGINT NOT NULL REFERENCES uploads (id) ON DELETE CASCADE,
    seq       INTEGER NOT NULL CHECK (seq >= 0),
    data      BYTEA NOT NULL,
    PRIMARY KEY (upload_id, seq)
);
-- A ZIP is compressed already: compressing it again costs CPU for nothing.
ALTER TABLE upload_chunks ALTER COLUMN data SET STORAGE EXTERNAL;
