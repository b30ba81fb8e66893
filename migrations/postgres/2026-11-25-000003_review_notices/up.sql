-- A venue's manager is told the review result in their notices.
ALTER TABLE notifications DROP CONSTRAINT notifications_kind_check;
ALTER TABLE notifications ADD CONSTRAINT notifications_kind_check CHECK (kind IN ('risk_window', 'identity_released', 'added_as_companion', 'review_result'));
