DELETE FROM notifications WHERE kind = 'review_result';
ALTER TABLE notifications DROP CONSTRAINT notifications_kind_check;
ALTER TABLE notifications ADD CONSTRAINT notifications_kind_check CHECK (kind IN ('risk_window', 'identity_released', 'added_as_companion'));
