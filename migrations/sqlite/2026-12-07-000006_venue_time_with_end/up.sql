-- A trace reads a venue's check-ins that entered up to a day before a stay; most of them ended
-- before it began. With the end in the index, SQLite passes over those in the index and reads
-- only the rows that may overlap (the same index serves every other read by venue and time).
DROP INDEX check_ins_venue_time;
CREATE INDEX check_ins_venue_time ON check_ins (venue_id, scanned_at, ends_at);
