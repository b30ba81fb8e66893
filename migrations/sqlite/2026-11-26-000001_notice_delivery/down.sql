PRAGMA foreign_keys = OFF;
BEGIN;
CREATE TABLE notifications_rebuilt (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('risk_window', 'identity_released', 'added_as_companion', 'review_result')),
    account_id BIGINT NOT NULL REFERENCES accounts (id),
    person_id BIGINT REFERENCES persons (id),
    risk_window_id BIGINT REFERENCES risk_windows (id),
    stay_from TIMESTAMP,
    stay_to TIMESTAMP,
    message TEXT,
    created_at TIMESTAMP NOT NULL
);
INSERT INTO notifications_rebuilt
    (id, kind, account_id, person_id, risk_window_id, stay_from, stay_to, message, created_at)
SELECT id, kind, account_id, person_id, risk_window_id, stay_from, stay_to, message, created_at
FROM notifications WHERE kind <> 'health_code';
DROP TABLE notifications;
ALTER TABLE notifications_rebuilt RENAME TO notifications;
CREATE UNIQUE INDEX notifications_once ON notifications (account_id, person_id, risk_window_id)
    WHERE risk_window_id IS NOT NULL;
CREATE INDEX notifications_account ON notifications (account_id, created_at);
COMMIT;
PRAGMA foreign_keys = ON;
