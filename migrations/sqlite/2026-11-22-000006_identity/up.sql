-- Identity and authority: whose data is whose.

-- One ID number, one owner: an account may hold an identity only when no other account does.
-- (The first release allowed one account per platform; later bindings of the same person are
-- released.)
UPDATE accounts SET person_id = NULL, consent_identity_at = NULL
WHERE person_id IS NOT NULL
  AND id NOT IN (SELECT MIN(id) FROM accounts WHERE person_id IS NOT NULL GROUP BY person_id);
CREATE UNIQUE INDEX accounts_one_owner ON accounts (person_id) WHERE person_id IS NOT NULL;
-- The name this account declared (sealed), and when its identity was verified by a face check.
ALTER TABLE accounts ADD COLUMN declared_name_sealed TEXT;
ALTER TABLE accounts ADD COLUMN identity_verified_at TIMESTAMP;
-- When the person's name came from a verified identity.
ALTER TABLE persons ADD COLUMN name_verified_at TIMESTAMP;
-- The name an account typed for its companion, kept with the row.
ALTER TABLE companions ADD COLUMN name_sealed TEXT;
-- What venue staff typed at a hand registration, kept with the check-in.
ALTER TABLE check_ins ADD COLUMN typed_name_sealed TEXT;
ALTER TABLE check_ins ADD COLUMN typed_phone_sealed TEXT;
-- The paper code scanned at the door (its printing account sees the entry and is told of risks).
ALTER TABLE check_ins ADD COLUMN paper_code_id BIGINT;

-- Face checks started with a platform.
CREATE TABLE identity_verifications (
    id TEXT PRIMARY KEY NOT NULL,
    account_id BIGINT NOT NULL REFERENCES accounts (id),
    platform TEXT NOT NULL CHECK (platform IN ('wechat', 'alipay')),
    provider_id TEXT NOT NULL,
    id_number_hash TEXT NOT NULL,
    id_number_sealed TEXT NOT NULL,
    name_sealed TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'verified', 'failed')),
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    completed_at TIMESTAMP
);
CREATE INDEX identity_verifications_account ON identity_verifications (account_id);

-- Staff sessions carry this version; raising it ends them.
ALTER TABLE staff_accounts ADD COLUMN session_version INTEGER NOT NULL DEFAULT 1;

-- Failed staff logins per username and per client address (keyed hashes).
DROP TABLE staff_login_failures;
CREATE TABLE login_throttles (
    key_hash TEXT PRIMARY KEY NOT NULL,
    failures INTEGER NOT NULL,
    window_started_at TIMESTAMP NOT NULL,
    locked_until TIMESTAMP
);

-- The region of the staff member who acted, so auditors see their own region's entries.
ALTER TABLE audit_log ADD COLUMN region_code TEXT NOT NULL DEFAULT '';
CREATE INDEX audit_log_region ON audit_log (region_code, seq);

-- Printed paper codes; reprinting or removing a companion revokes the earlier ones.
CREATE TABLE paper_codes (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    person_id BIGINT NOT NULL REFERENCES persons (id),
    account_id BIGINT NOT NULL REFERENCES accounts (id),
    issued_on DATE NOT NULL,
    created_at TIMESTAMP NOT NULL,
    revoked_at TIMESTAMP
);
CREATE INDEX paper_codes_account_person ON paper_codes (account_id, person_id);

-- Phone proofs already accepted (Alipay answers carry no user: one proof, one account).
CREATE TABLE used_phone_proofs (
    proof_hash TEXT PRIMARY KEY NOT NULL,
    account_id BIGINT NOT NULL REFERENCES accounts (id),
    used_at TIMESTAMP NOT NULL
);

-- Imports of colours above the two-person threshold, waiting for a second official.
CREATE TABLE health_code_imports (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    requested_by BIGINT NOT NULL REFERENCES staff_accounts (id),
    region_code TEXT NOT NULL,
    row_count BIGINT NOT NULL,
    changes_sealed TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'applied')),
    requested_at TIMESTAMP NOT NULL,
    confirmed_by BIGINT REFERENCES staff_accounts (id),
    applied_at TIMESTAMP
);

-- Alerts of two kinds: a red scan at a venue, or a referral from another region's trace of the
-- contacts found at a venue of this region.
CREATE TABLE alerts_new (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('red_scan', 'referral')),
    venue_id BIGINT NOT NULL REFERENCES venues (id),
    region_code TEXT NOT NULL,
    check_in_id BIGINT REFERENCES check_ins (id),
    person_id BIGINT REFERENCES persons (id),
    trace_id BIGINT REFERENCES traces (id),
    from_region_code TEXT,
    contact_count BIGINT NOT NULL DEFAULT 0,
    details_sealed TEXT,
    status TEXT NOT NULL CHECK (status IN ('open', 'closed')),
    created_at TIMESTAMP NOT NULL,
    closed_at TIMESTAMP,
    closed_by BIGINT REFERENCES staff_accounts (id),
    note TEXT
);
INSERT INTO alerts_new (id, kind, venue_id, region_code, check_in_id, person_id, status, created_at,
                        closed_at, closed_by, note)
SELECT id, 'red_scan', venue_id, region_code, check_in_id, person_id, status, created_at, closed_at,
       closed_by, note
FROM alerts;
DROP TABLE alerts;
ALTER TABLE alerts_new RENAME TO alerts;
CREATE INDEX alerts_region_status ON alerts (region_code, status);

-- Notifications of several kinds: a risky window, an identity released by a verified claim, an
-- account added as someone's companion.
CREATE TABLE notifications_new (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('risk_window', 'identity_released', 'added_as_companion')),
    account_id BIGINT NOT NULL REFERENCES accounts (id),
    person_id BIGINT REFERENCES persons (id),
    risk_window_id BIGINT REFERENCES risk_windows (id),
    stay_from TIMESTAMP,
    stay_to TIMESTAMP,
    message TEXT,
    created_at TIMESTAMP NOT NULL
);
INSERT INTO notifications_new (id, kind, account_id, person_id, risk_window_id, stay_from, stay_to,
                               created_at)
SELECT id, 'risk_window', account_id, person_id, risk_window_id, stay_from, stay_to, created_at
FROM notifications;
DROP TABLE notifications;
ALTER TABLE notifications_new RENAME TO notifications;
CREATE UNIQUE INDEX notifications_once ON notifications (account_id, person_id, risk_window_id)
    WHERE risk_window_id IS NOT NULL;
CREATE INDEX notifications_account ON notifications (account_id, created_at);
