//! The API test suite, in one binary. Each test starts the real server on port 0 with a fresh
//! database: an SQLite file by default, a PostgreSQL database of its own when
//! `TEST_DATABASE_URL` is set (created before the test and dropped after it).

mod alipay_client;
mod check_ins;
mod cli;
mod errors;
mod fake_alipay;
mod fake_wechat;
mod helpers;
mod ops;
mod privacy;
mod reference;
mod sessions;
mod spec;
mod staff_sessions;
mod tracing;
mod venues;
mod wechat_client;
