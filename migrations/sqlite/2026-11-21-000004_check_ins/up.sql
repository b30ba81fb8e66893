-- The latest phone number known for a person (from a hand registration), sealed.
ALTER TABLE persons ADD COLUMN phone_sealed TEXT;
ALTER TABLE persons ADD COLUMN phone_hash TEXT;

-- Current health-code colour per person; people without a row have the configured default.
CREATE TABLE health_codes (
    person_id BIGINT PRIMARY KEY NOT NULL REFERENCES persons (id),
    color TEXT NOT NULL CHECK (color IN ('green', 'yellow', 'red')),
    reason_code TEXT NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    updated_by BIGINT REFERENCES staff_accounts (id)
);

-- Every colour change, for the person's history.
CREATE TABLE health_code_changes (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    person_id BIGINT NOT NULL REFERENCES persons (id),
    color TEXT NOT NULL CHECK (color IN ('green', 'yellow', 'red')),
    reason_code TEXT NOT NULL,
    note_sealed TEXT,
    changed_by BIGINT REFERENCES staff_accounts (id),
    changed_at TIMESTAMP NOT NULL
);
CREATE INDEX health_code_changes_person ON health_code_changes (person_id, changed_at);

-- Elderly people and children a resident checks in with them.
CREATE TABLE companions (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    account_id BIGINT NOT NULL REFERENCES accounts (id),
    person_id BIGINT NOT NULL REFERENCES persons (id),
    relation TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    UNIQUE (account_id, person_id)
);
CREATE INDEX companions_person ON companions (person_id);

-- One row per person per entry. A stay lasts from scanned_at to ends_at: the checkout time,
-- or scanned_at plus the subtype's default stay.
CREATE TABLE check_ins (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    venue_id BIGINT NOT NULL REFERENCES venues (id),
    entrance_id BIGINT NOT NULL REFERENCES entrances (id),
    person_id BIGINT NOT NULL REFERENCES persons (id),
    account_id BIGINT REFERENCES accounts (id),
    group_id BIGINT,
    role TEXT NOT NULL CHECK (role IN ('self', 'companion')),
    source TEXT NOT NULL CHECK (source IN ('scan', 'manual', 'paper')),
    health_color TEXT NOT NULL CHECK (health_color IN ('green', 'yellow', 'red')),
    verdict TEXT NOT NULL CHECK (verdict IN ('pass', 'deny', 'isolate')),
    scanned_at TIMESTAMP NOT NULL,
    recorded_at TIMESTAMP NOT NULL,
    ends_at TIMESTAMP NOT NULL,
    left_at TIMESTAMP,
    offline BOOLEAN NOT NULL,
    located BOOLEAN NOT NULL,
    distance_m INTEGER
);
CREATE INDEX check_ins_venue_time ON check_ins (venue_id, scanned_at);
CREATE INDEX check_ins_person_time ON check_ins (person_id, scanned_at);
CREATE INDEX check_ins_account_time ON check_ins (account_id, recorded_at);
CREATE INDEX check_ins_group ON check_ins (group_id);

-- Red codes seen at a venue, for the prevention office of the venue's region.
CREATE TABLE alerts (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    venue_id BIGINT NOT NULL REFERENCES venues (id),
    region_code TEXT NOT NULL,
    check_in_id BIGINT NOT NULL REFERENCES check_ins (id),
    person_id BIGINT NOT NULL REFERENCES persons (id),
    status TEXT NOT NULL CHECK (status IN ('open', 'closed')),
    created_at TIMESTAMP NOT NULL,
    closed_at TIMESTAMP,
    closed_by BIGINT REFERENCES staff_accounts (id),
    note TEXT
);
CREATE INDEX alerts_region_status ON alerts (region_code, status);
