-- check_ins partitioned by the day of scanned_at: retention drops whole days
-- (db/partitions.rs keeps days ahead created and old ones dropped). The primary key holds the
-- partition key and venue_id, so the table stays distributable by venue_id (Citus). Ids come
-- from a plain sequence, so that the writer of scans can take a batch of them in one query.
-- Foreign keys from the table are dropped: every row is written by db/check_in_writer.rs from
-- entities it has just read, and a per-row key check would cost each insert four lookups.
ALTER TABLE alerts DROP CONSTRAINT IF EXISTS alerts_check_in_id_fkey;
ALTER TABLE check_ins RENAME TO check_ins_before_days;
ALTER INDEX check_ins_venue_time RENAME TO check_ins_before_days_venue_time;
ALTER INDEX check_ins_person_time RENAME TO check_ins_before_days_person_time;
ALTER INDEX check_ins_account_time RENAME TO check_ins_before_days_account_time;
ALTER INDEX check_ins_group RENAME TO check_ins_before_days_group;

CREATE SEQUENCE check_ins_ids;
CREATE TABLE check_ins (
    id BIGINT NOT NULL DEFAULT nextval('check_ins_ids'),
    venue_id BIGINT NOT NULL,
    entrance_id BIGINT NOT NULL,
    person_id BIGINT NOT NULL,
    account_id BIGINT,
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
    distance_m INTEGER,
    typed_name_sealed TEXT,
    typed_phone_sealed TEXT,
    paper_code_id BIGINT,
    PRIMARY KEY (id, scanned_at, venue_id)
) PARTITION BY RANGE (scanned_at);
ALTER SEQUENCE check_ins_ids OWNED BY check_ins.id;
CREATE INDEX check_ins_venue_time ON check_ins (venue_id, scanned_at);
CREATE INDEX check_ins_person_time ON check_ins (person_id, scanned_at);
CREATE INDEX check_ins_account_time ON check_ins (account_id, recorded_at);
CREATE INDEX check_ins_group ON check_ins (group_id);
-- Anything outside the days created lands here; it stays empty in normal operation.
CREATE TABLE check_ins_default PARTITION OF check_ins DEFAULT;

-- A partition for every day from the oldest row kept (or yesterday) to three days ahead.
DO $$
DECLARE
    day DATE := LEAST(
        COALESCE((SELECT MIN(scanned_at)::date FROM check_ins_before_days), CURRENT_DATE),
        CURRENT_DATE - 1);
BEGIN
    WHILE day <= CURRENT_DATE + 3 LOOP
        EXECUTE format(
            'CREATE TABLE check_ins_%s PARTITION OF check_ins FOR VALUES FROM (%L) TO (%L)',
            to_char(day, 'YYYYMMDD'), day, day + 1);
        day := day + 1;
    END LOOP;
END $$;

INSERT INTO check_ins (
    id, venue_id, entrance_id, person_id, account_id, group_id, role, source, health_color,
    verdict, scanned_at, recorded_at, ends_at, left_at, offline, located, distance_m,
    typed_name_sealed, typed_phone_sealed, paper_code_id)
SELECT
    id, venue_id, entrance_id, person_id, account_id, group_id, role, source, health_color,
    verdict, scanned_at, recorded_at, ends_at, left_at, offline, located, distance_m,
    typed_name_sealed, typed_phone_sealed, paper_code_id
FROM check_ins_before_days;
SELECT setval('check_ins_ids', COALESCE((SELECT MAX(id) FROM check_ins_before_days), 0) + 1, false);
DROP TABLE check_ins_before_days;
