-- An account cancelled by its holder (注销): a row that holds nothing of them, kept only so that
-- the records that name it stay consistent. Its platform identifiers are gone, so the next login
-- through the platform makes a new, empty account.
ALTER TABLE accounts ADD COLUMN deleted_at TIMESTAMP;

-- Each grant and withdrawal of a consent element, with its time: the history a person can copy.
CREATE TABLE consent_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    account_id BIGINT NOT NULL REFERENCES accounts (id),
    element TEXT NOT NULL CHECK (element IN ('profile', 'phone', 'identity')),
    granted BOOLEAN NOT NULL,
    at TIMESTAMP NOT NULL
);
CREATE INDEX consent_events_account ON consent_events (account_id, at);
