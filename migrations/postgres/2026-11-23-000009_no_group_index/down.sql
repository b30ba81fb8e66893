CREATE INDEX check_ins_group ON check_ins (group_id);
