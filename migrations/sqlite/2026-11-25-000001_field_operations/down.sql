PRAGMA foreign_keys = OFF;
BEGIN;
DELETE FROM venues WHERE manager_account_id IS NULL;
ALTER TABLE venues DROP COLUMN credit_code;
ALTER TABLE venues DROP COLUMN suspension_reason;
ALTER TABLE venues DROP COLUMN suspended_at;
DELETE FROM staff_accounts WHERE role = 'registrar';
CREATE TABLE staff_accounts_rebuilt (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    username TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('reviewer', 'health_official', 'auditor', 'sysadmin')),
    region_code TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    disabled_at TIMESTAMP,
    session_version INTEGER NOT NULL DEFAULT 1
);
INSERT INTO staff_accounts_rebuilt
    (id, username, password_hash, role, region_code, created_at, disabled_at, session_version)
SELECT id, username, password_hash, role, region_code, created_at, disabled_at, session_version
FROM staff_accounts;
DROP TABLE staff_accounts;
ALTER TABLE staff_accounts_rebuilt RENAME TO staff_accounts;
COMMIT;
PRAGMA foreign_keys = ON;
