-- Administrative divisions down to township level, loaded from reference-data/divisions at start-up.
CREATE TABLE regions (
    code TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    level SMALLINT NOT NULL CHECK (level BETWEEN 1 AND 4),
    parent_code TEXT REFERENCES regions (code)
);
CREATE INDEX regions_parent_code ON regions (parent_code);

-- Which version of each shipped data set is loaded.
CREATE TABLE reference_data (
    name TEXT PRIMARY KEY NOT NULL,
    checksum TEXT NOT NULL,
    row_count BIGINT NOT NULL,
    loaded_at TIMESTAMP NOT NULL
);

-- Reviewers, health officials, auditors and system administrators.
CREATE TABLE staff_accounts (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('reviewer', 'health_official', 'auditor', 'sysadmin')),
    region_code TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    disabled_at TIMESTAMP
);
