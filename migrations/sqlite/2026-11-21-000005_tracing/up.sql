-- A trace of a case: who shared a venue with them, when. The result names people, so it is sealed.
CREATE TABLE traces (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    created_by BIGINT NOT NULL REFERENCES staff_accounts (id),
    region_code TEXT NOT NULL,
    case_person_id BIGINT NOT NULL REFERENCES persons (id),
    from_at TIMESTAMP NOT NULL,
    to_at TIMESTAMP NOT NULL,
    depth INTEGER NOT NULL,
    contact_count BIGINT NOT NULL,
    result_sealed TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX traces_created_at ON traces (created_at);

-- Colour changes for the contacts of a trace; large ones wait for a second official.
CREATE TABLE trace_color_changes (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    trace_id BIGINT NOT NULL REFERENCES traces (id),
    level INTEGER,
    color TEXT NOT NULL CHECK (color IN ('green', 'yellow', 'red')),
    reason_code TEXT NOT NULL,
    person_count BIGINT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'applied')),
    requested_by BIGINT NOT NULL REFERENCES staff_accounts (id),
    requested_at TIMESTAMP NOT NULL,
    confirmed_by BIGINT REFERENCES staff_accounts (id),
    applied_at TIMESTAMP
);

-- A time at a venue declared risky by health officials.
CREATE TABLE risk_windows (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    venue_id BIGINT NOT NULL REFERENCES venues (id),
    from_at TIMESTAMP NOT NULL,
    to_at TIMESTAMP NOT NULL,
    message TEXT NOT NULL,
    created_by BIGINT NOT NULL REFERENCES staff_accounts (id),
    created_at TIMESTAMP NOT NULL
);

-- In-app notices: one per account and risky window, naming whose stay overlapped.
CREATE TABLE notifications (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    account_id BIGINT NOT NULL REFERENCES accounts (id),
    person_id BIGINT NOT NULL REFERENCES persons (id),
    risk_window_id BIGINT NOT NULL REFERENCES risk_windows (id),
    stay_from TIMESTAMP NOT NULL,
    stay_to TIMESTAMP NOT NULL,
    created_at TIMESTAMP NOT NULL,
    UNIQUE (account_id, person_id, risk_window_id)
);
CREATE INDEX notifications_account ON notifications (account_id, created_at);
