DROP SCHEMA IF EXISTS stravatalk_model CASCADE;
-- The role stravatalk_model is shared by every database of the cluster: it stays.
