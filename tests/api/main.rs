//! The API test suite, in one binary, one module per resource. Each test starts the real server
//! on port 0 with a fresh database: an SQLite file by default, a PostgreSQL database of its own
//! when `TEST_DATABASE_URL` is set (created before the test and dropped after it). Both are
//! copied from a template that already holds the migrations and the divisions.

mod alerts;
mod alipay_client;
mod audit_log;
mod check_ins;
mod cli;
mod companions;
mod console;
mod documents;
mod durability;
mod entrances;
mod errors;
mod fake_alipay;
mod fake_faces;
mod fake_messages;
mod fake_wechat;
mod faults;
mod follow_ups;
mod formation;
mod health_codes;
mod helpers;
mod idempotency;
mod identity;
mod keys;
mod manual_check_ins;
mod me;
mod messages;
mod nodes;
mod ops;
mod overload;
mod paper_codes;
mod passes;
mod personal_data;
mod pg_backups;
mod privacy;
mod regions;
mod retention;
mod reviews;
mod risk_windows;
mod sessions;
mod spec;
mod staff_sessions;
mod stats;
mod suspensions;
mod test_results;
mod traces;
mod trust;
mod venue_categories;
mod venue_codes;
mod venue_imports;
mod venue_staff;
mod venues;
mod visitors;
mod wechat_client;
