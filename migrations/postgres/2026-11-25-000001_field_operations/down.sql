DELETE FROM venues WHERE manager_account_id IS NULL;
ALTER TABLE venues ALTER COLUMN manager_account_id SET NOT NULL;
ALTER TABLE venues DROP COLUMN credit_code;
ALTER TABLE venues DROP COLUMN suspension_reason;
ALTER TABLE venues DROP COLUMN suspended_at;
DELETE FROM staff_accounts WHERE role = 'registrar';
ALTER TABLE staff_accounts DROP CONSTRAINT staff_accounts_role_check;
ALTER TABLE staff_accounts ADD CONSTRAINT staff_accounts_role_check
    CHECK (role IN ('reviewer', 'health_official', 'auditor', 'sysadmin'));
