DROP TABLE consent_events;
ALTER TABLE accounts DROP COLUMN deleted_at;
