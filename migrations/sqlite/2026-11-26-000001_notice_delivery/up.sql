-- Notices reach residents outside the inbox: each notification that a platform message should
-- carry is queued here (delivery = 'pending') and sent by a background worker, which records the
-- outcome. Colour changes become a notification kind. Existing rows stay in the inbox only.
PRAGMA foreign_keys = OFF;
BEGIN;
CREATE TABLE notifications_rebuilt (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('risk_window', 'identity_released', 'added_as_companion', 'review_result', 'health_code')),
    account_id BIGINT NOT NULL REFERENCES accounts (id),
    person_id BIGINT REFERENCES persons (id),
    risk_window_id BIGINT REFERENCES risk_windows (id),
    stay_from TIMESTAMP,
    stay_to TIMESTAMP,
    message TEXT,
    created_at TIMESTAMP NOT NULL,
    delivery TEXT NOT NULL DEFAULT 'inbox_only'
        CHECK (delivery IN ('inbox_only', 'pending', 'sent', 'not_subscribed', 'failed', 'skipped')),
    delivery_values TEXT,
    delivery_attempts INTEGER NOT NULL DEFAULT 0,
    deliver_after TIMESTAMP,
    delivered_at TIMESTAMP,
    delivery_error TEXT
);
INSERT INTO notifications_rebuilt
    (id, kind, account_id, person_id, risk_window_id, stay_from, stay_to, message, created_at)
SELECT id, kind, account_id, person_id, risk_window_id, stay_from, stay_to, message, created_at
FROM notifications;
DROP TABLE notifications;
ALTER TABLE notifications_rebuilt RENAME TO notifications;
CREATE UNIQUE INDEX notifications_once ON notifications (account_id, person_id, risk_window_id)
    WHERE risk_window_id IS NOT NULL;
CREATE INDEX notifications_account ON notifications (account_id, created_at);
CREATE INDEX notifications_due ON notifications (deliver_after) WHERE delivery = 'pending';
COMMIT;
PRAGMA foreign_keys = ON;
