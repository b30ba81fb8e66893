//! venuecode: the backend of a venue code (场所码) system. Residents scan a venue's code with the
//! WeChat or Alipay mini-program; the server records the check-in and answers with the venue and
//! the person's health-code verdict. See README.md for the layout.

pub mod auth;
pub mod check_in;
pub mod commands;
pub mod config;
pub mod contact_trace;
pub mod db;
pub mod divisions;
pub mod domain;
pub mod entrance_cache;
pub mod error;
pub mod extract;
pub mod localtime;
pub mod metrics;
pub mod passes;
pub mod pii;
pub mod platforms;
pub mod posters;
pub mod request_context;
pub mod routes;
pub mod startup;
pub mod state;
pub mod telemetry;
