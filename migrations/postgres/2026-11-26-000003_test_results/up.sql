-- Nucleic-acid results and vaccination status, imported by health officials and shown at the
-- door; a venue may require a negative result within some hours.
CREATE TABLE test_results (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    person_id BIGINT NOT NULL REFERENCES persons (id),
    result TEXT NOT NULL CHECK (result IN ('negative', 'positive')),
    sampled_at TIMESTAMP NOT NULL,
    recorded_by BIGINT NOT NULL REFERENCES staff_accounts (id),
    recorded_at TIMESTAMP NOT NULL
);
CREATE INDEX test_results_person ON test_results (person_id, sampled_at);
CREATE INDEX test_results_recorded ON test_results (recorded_at);
CREATE TABLE vaccinations (
    person_id BIGINT PRIMARY KEY NOT NULL REFERENCES persons (id),
    doses SMALLINT NOT NULL CHECK (doses BETWEEN 0 AND 9),
    last_dose_on DATE,
    recorded_by BIGINT NOT NULL REFERENCES staff_accounts (id),
    recorded_at TIMESTAMP NOT NULL
);
ALTER TABLE venues ADD COLUMN test_required_hours INTEGER CHECK (test_required_hours BETWEEN 1 AND 168);
