-- Venue code applications. The manager's name, ID number and mobile are sealed; the keyed
-- hashes let managers find their applications by ID number or mobile.
CREATE TABLE venues (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    manager_account_id BIGINT NOT NULL REFERENCES accounts (id),
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
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX venues_region_code ON venues (region_code);
CREATE INDEX venues_manager_account ON venues (manager_account_id);
CREATE INDEX venues_manager_id_number_hash ON venues (manager_id_number_hash);
CREATE INDEX venues_manager_phone_hash ON venues (manager_phone_hash);

-- One door, one code. code_version goes up when a code is rotated; older versions are revoked.
CREATE TABLE entrances (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    venue_id BIGINT NOT NULL REFERENCES venues (id),
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    code_version INTEGER NOT NULL,
    closed_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX entrances_venue ON entrances (venue_id);
-- Names are unique among a venue's open entrances.
CREATE UNIQUE INDEX entrances_open_name ON entrances (venue_id, name) WHERE closed_at IS NULL;

-- Mini-program accounts appointed by a venue's manager.
CREATE TABLE venue_staff (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    venue_id BIGINT NOT NULL REFERENCES venues (id),
    account_id BIGINT NOT NULL REFERENCES accounts (id),
    created_at TIMESTAMP NOT NULL,
    UNIQUE (venue_id, account_id)
);
CREATE INDEX venue_staff_account ON venue_staff (account_id);

-- One-time invitation codes (stored hashed) that make their redeemer a venue's staff.
CREATE TABLE venue_staff_invitations (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    venue_id BIGINT NOT NULL REFERENCES venues (id),
    code_hash TEXT NOT NULL UNIQUE,
    expires_at TIMESTAMP NOT NULL,
    redeemed_by BIGINT REFERENCES accounts (id),
    redeemed_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL
);

-- Append-only audit log. Each entry carries the keyed hash of the one before; audit_head holds
-- the last one and serialises appends (its row is updated first in every appending transaction).
CREATE TABLE audit_log (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    seq BIGINT NOT NULL UNIQUE,
    at TIMESTAMP NOT NULL,
    actor TEXT NOT NULL,
    role TEXT NOT NULL,
    action TEXT NOT NULL,
    subject_hash TEXT NOT NULL,
    count BIGINT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE INDEX audit_log_at ON audit_log (at);

CREATE TABLE audit_head (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    seq BIGINT NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, 'genesis');
