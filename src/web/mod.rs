//! The HTTP edge: the error envelope and how each service's errors map onto it, the body and
//! query extractors, the middleware around every request, and the metrics it records.

pub mod admission;
pub mod error;
pub mod extract;
pub mod idempotency;
pub mod metrics;
pub mod request_context;
mod service_errors;
pub mod sheet;
pub mod venue_requests;

pub use error::{ApiError, ErrorCode};
pub use extract::{Json, JsonOrCsv, Query};
