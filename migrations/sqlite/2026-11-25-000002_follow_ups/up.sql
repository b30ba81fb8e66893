-- Follow-up tasks: a yellow or red person scanned in, or given that colour, is followed up by the
-- street office or community of the region (the venue's for a scan, the official's for a colour
-- change). One open task per person and region.
CREATE TABLE follow_ups (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    person_id BIGINT NOT NULL REFERENCES persons (id),
    region_code TEXT NOT NULL,
    color TEXT NOT NULL CHECK (color IN ('yellow', 'red')),
    cause TEXT NOT NULL CHECK (cause IN ('scan', 'color_change')),
    venue_id BIGINT REFERENCES venues (id),
    check_in_id BIGINT,
    status TEXT NOT NULL CHECK (status IN ('open', 'closed')),
    created_at TIMESTAMP NOT NULL,
    closed_at TIMESTAMP,
    closed_by BIGINT REFERENCES staff_accounts (id),
    outcome_sealed TEXT
);
CREATE INDEX follow_ups_region_status ON follow_ups (region_code, status);
CREATE INDEX follow_ups_person_status ON follow_ups (person_id, status);
