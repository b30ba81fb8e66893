DROP INDEX check_ins_venue_time;
CREATE INDEX check_ins_venue_time ON check_ins (venue_id, scanned_at);
