-- Groups are found through the venue's index (they share venue and entry time); an index of
-- groups would cost every insert.
DROP INDEX check_ins_group;
