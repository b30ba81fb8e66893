-- Field operations: street-office and community registrars, suspended venues, credit codes.
-- SQLite cannot change a CHECK constraint in place: staff_accounts is rebuilt the documented way
-- (foreign keys off, outside a transaction; the rebuild itself in one).
PRAGMA foreign_keys = OFF;
BEGIN;
CREATE TABLE staff_accounts_rebuilt (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    username TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('reviewer', 'health_official', 'auditor', 'sysadmin', 'registrar')),
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

-- A suspended venue keeps its status; its codes answer venue_suspended until it is resumed.
ALTER TABLE venues ADD COLUMN suspended_at TIMESTAMP;
ALTER TABLE venues ADD COLUMN suspension_reason TEXT;
-- 统一社会信用代码, optional.
ALTER TABLE venues ADD COLUMN credit_code TEXT;
COMMIT;
PRAGMA foreign_keys = ON;
