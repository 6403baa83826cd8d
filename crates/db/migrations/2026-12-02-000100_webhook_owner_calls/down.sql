DROP TABLE webhook_owner_calls;
