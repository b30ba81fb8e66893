DROP TABLE audit_head;
DROP TABLE audit_log;
DROP TABLE venue_staff_invitations;
DROP TABLE venue_staff;
DROP TABLE entrances;
DROP TABLE venues;
