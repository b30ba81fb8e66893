DROP INDEX notifications_due;
ALTER TABLE notifications
    DROP COLUMN delivery,
    DROP COLUMN delivery_values,
    DROP COLUMN delivery_attempts,
    DROP COLUMN deliver_after,
    DROP COLUMN delivered_at,
    DROP COLUMN delivery_error;
DELETE FROM notifications WHERE kind = 'health_code';
ALTER TABLE notifications DROP CONSTRAINT notifications_kind_check;
ALTER TABLE notifications ADD CONSTRAINT notifications_kind_check CHECK (kind IN ('risk_window', 'identity_released', 'added_as_companion', 'review_result'));
