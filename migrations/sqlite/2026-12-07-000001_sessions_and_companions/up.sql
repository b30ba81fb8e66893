-- Each staff login is a session of its own (the token's `jti`); logging out ends it.
CREATE TABLE staff_sessions (
    id TEXT PRIMARY KEY NOT NULL,
    staff_id BIGINT NOT NULL REFERENCES staff_accounts (id),
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    ended_at TIMESTAMP
);
CREATE INDEX staff_sessions_expiry ON staff_sessions (expires_at);

-- The birth date an account typed for its companion stays with that companion row, like the
-- name it typed: it never becomes the person's. A row may be checked in from accepted_at on: set
-- when the person had no account of their own, or when a person with one accepted the request.
ALTER TABLE companions ADD COLUMN birth_date DATE;
ALTER TABLE companions ADD COLUMN accepted_at TIMESTAMP;
UPDATE companions SET birth_date = (SELECT birth_date FROM persons WHERE persons.id = companions.person_id);
-- Rows of people with an account of their own (not the holder's) were added without asking
-- them: they wait for their acceptance now.
UPDATE companions SET accepted_at = created_at
 WHERE NOT EXISTS (SELECT 1 FROM accounts a
                    WHERE a.person_id = companions.person_id AND a.id <> companions.account_id);
-- Until now only companions wrote a person's birth date; from now on only the person's own
-- declaration does.
UPDATE persons SET birth_date = NULL;
