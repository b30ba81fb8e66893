//! venuecode: the backend of a venue code (场所码) system. Residents scan a venue's code with the
//! WeChat or Alipay mini-program; the server records the check-in and answers with the venue and
//! the person's health-code verdict. See README.md for the layout.

pub mod auth;
pub mod cache;
pub mod cli;
pub mod clock;
pub mod config;
pub mod console;
pub mod crypto;
pub mod db;
pub mod domain;
pub mod platforms;
pub mod posters;
pub mod reference;
pub mod routes;
pub mod services;
pub mod startup;
pub mod state;
pub mod telemetry;
pub mod web;
