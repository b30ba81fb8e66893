-- Field operations: street-office and community registrars, suspended venues, credit codes.
ALTER TABLE staff_accounts DROP CONSTRAINT staff_accounts_role_check;
ALTER TABLE staff_accounts ADD CONSTRAINT staff_accounts_role_check
    CHECK (role IN ('reviewer', 'health_official', 'auditor', 'sysadmin', 'registrar'));

-- A venue registered by a registrar has no manager account until its manager claims it.
ALTER TABLE venues ALTER COLUMN manager_account_id DROP NOT NULL;
-- A suspended venue keeps its status; its codes answer venue_suspended until it is resumed.
ALTER TABLE venues ADD COLUMN suspended_at TIMESTAMP;
ALTER TABLE venues ADD COLUMN suspension_reason TEXT;
-- 统一社会信用代码, optional.
ALTER TABLE venues ADD COLUMN credit_code TEXT;
