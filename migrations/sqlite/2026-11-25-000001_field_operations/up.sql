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

-- Venues: a venue registered by a registrar has no manager account until its manager claims it
-- (manager_account_id nullable). A suspended venue keeps its status; its codes answer
-- venue_suspended until it is resumed. credit_code: 统一社会信用代码, optional.
CREATE TABLE venues_rebuilt (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    manager_account_id BIGINT REFERENCES accounts (id),
    manager_name_sealed TEXT NOT NULL,
    manager_id_number_sealed TEXT NOT NULL,
    manager_id_number_hash TEXT NOT NULL,
    manager_phone_sealed TEXT NOT NULL,
    manager_phone_hash TEXT NOT NULL,
    name TEXT NOT NULL,
    category TEXT NOT NULL,
    subtype TEXT NOT NULL,
    region_code TEXT NOT NULL,
    address TEXT NOT NULL,
    lat DOUBLE PRECISION NOT NULL,
    lng DOUBLE PRECISION NOT NULL,
    transport_line TEXT,
    plate_number TEXT,
    status TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'rejected')),
    rejection_reason TEXT,
    reviewed_by BIGINT REFERENCES staff_accounts (id),
    reviewed_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    suspended_at TIMESTAMP,
    suspension_reason TEXT,
    credit_code TEXT
);
INSERT INTO venues_rebuilt
    (id, manager_account_id, manager_name_sealed, manager_id_number_sealed, manager_id_number_hash,
     manager_phone_sealed, manager_phone_hash, name, category, subtype, region_code, address, lat, lng,
     transport_line, plate_number, status, rejection_reason, reviewed_by, reviewed_at, created_at,
     updated_at)
SELECT id, manager_account_id, manager_name_sealed, manager_id_number_sealed, manager_id_number_hash,
     manager_phone_sealed, manager_phone_hash, name, category, subtype, region_code, address, lat, lng,
     transport_line, plate_number, status, rejection_reason, reviewed_by, reviewed_at, created_at,
     updated_at
FROM venues;
DROP TABLE venues;
ALTER TABLE venues_rebuilt RENAME TO venues;
CREATE INDEX venues_region_code ON venues (region_code);
CREATE INDEX venues_manager_account ON venues (manager_account_id);
CREATE INDEX venues_manager_id_number_hash ON venues (manager_id_number_hash);
CREATE INDEX venues_manager_phone_hash ON venues (manager_phone_hash);
COMMIT;
PRAGMA foreign_keys = ON;
