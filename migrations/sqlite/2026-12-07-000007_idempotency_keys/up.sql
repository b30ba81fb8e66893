-- A request sent with an `Idempotency-Key` (scans, hand registrations, paper scans, imports) and
-- its answer, kept 24 hours, so that the same request sent again is answered the same and
-- recorded once, whichever node it reaches. `id` is a hash of the caller and the key;
-- `fingerprint` a hash of the request (method, path, body); `status` is NULL while the first
-- request is still being answered. The answer is sealed like other personal data.
CREATE TABLE idempotency_keys (
    id TEXT PRIMARY KEY NOT NULL,
    principal TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    -- A random token of the request that holds the key: only it writes the answer or lets go.
    holder TEXT NOT NULL,
    started_at TIMESTAMP NOT NULL,
    status INTEGER,
    answer_sealed TEXT
);
CREATE INDEX idempotency_keys_started_at ON idempotency_keys (started_at);
CREATE INDEX idempotency_keys_principal ON idempotency_keys (principal);
