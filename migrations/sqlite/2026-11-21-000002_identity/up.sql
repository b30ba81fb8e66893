-- Natural persons, known by their resident ID number. Name and ID number are sealed
-- (AES-256-GCM); id_number_hash is a keyed hash for lookups.
CREATE TABLE persons (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    id_number_hash TEXT NOT NULL UNIQUE,
    id_number_sealed TEXT NOT NULL,
    name_sealed TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

-- Mini-program accounts. One person holds at most one account per platform.
CREATE TABLE accounts (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    platform TEXT NOT NULL CHECK (platform IN ('wechat', 'alipay')),
    subject TEXT NOT NULL,
    platform_user_id TEXT,
    person_id BIGINT REFERENCES persons (id),
    profile_sealed TEXT,
    phone_sealed TEXT,
    phone_hash TEXT,
    platform_token_sealed TEXT,
    platform_token_expires_at TIMESTAMP,
    consent_profile_at TIMESTAMP,
    consent_phone_at TIMESTAMP,
    consent_identity_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    last_login_at TIMESTAMP NOT NULL,
    UNIQUE (platform, subject),
    UNIQUE (person_id, platform)
);
CREATE INDEX accounts_phone_hash ON accounts (phone_hash);

-- Failed staff logins per username (keyed hash), to slow down and then stop guessing.
CREATE TABLE staff_login_failures (
    username_hash TEXT PRIMARY KEY NOT NULL,
    failures INTEGER NOT NULL,
    window_started_at TIMESTAMP NOT NULL,
    locked_until TIMESTAMP
);
