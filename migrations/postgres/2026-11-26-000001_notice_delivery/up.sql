-- Notices reach residents outside the inbox: each notification that a platform message should
-- carry is queued here (delivery = 'pending') and sent by a background worker, which records the
-- outcome. Colour changes become a notification kind. Existing rows stay in the inbox only.
ALTER TABLE notifications DROP CONSTRAINT notifications_kind_check;
ALTER TABLE notifications ADD CONSTRAINT notifications_kind_check CHECK (kind IN ('risk_window', 'identity_released', 'added_as_companion', 'review_result', 'health_code'));
ALTER TABLE notifications
    ADD COLUMN delivery TEXT NOT NULL DEFAULT 'inbox_only'
        CONSTRAINT notifications_delivery_check
        CHECK (delivery IN ('inbox_only', 'pending', 'sent', 'not_subscribed', 'failed', 'skipped')),
    ADD COLUMN delivery_values TEXT,
    ADD COLUMN delivery_attempts INTEGER NOT NULL DEFAULT 0,
    ADD COLUMN deliver_after TIMESTAMP,
    ADD COLUMN delivered_at TIMESTAMP,
    ADD COLUMN delivery_error TEXT;
CREATE INDEX notifications_due ON notifications (deliver_after) WHERE delivery = 'pending';
