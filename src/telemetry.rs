//! Logs through `tracing`: JSON lines in production, readable lines in development. `RUST_LOG`
//! overrides the default filter. A client cannot make the server log at error level: the HTTP
//! layer's complaints about a connection's bytes (a NUL in a header, a request line that does not
//! parse, a connection dropped mid-write) are the client's doing, and they are written only when
//! the filter asks for debug lines.

use tracing::level_filters::LevelFilter;
use tracing::{Level, Metadata};
use tracing_subscriber::filter::filter_fn;
use tracing_subscriber::layer::{Layer, SubscriberExt};
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{fmt, EnvFilter};

use crate::config::LogFormat;

pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,actix_server=warn"));
    let debugging = filter
        .max_level_hint()
        .is_some_and(|level| level >= LevelFilter::DEBUG);
    let registry = tracing_subscriber::registry().with(filter);
    let shown = move || filter_fn(move |meta| debugging || !is_client_error(meta));
    // A second init (tests start many apps in one process) keeps the first subscriber.
    let _ = match format {
        LogFormat::Json => registry
            .with(
                fmt::layer()
                    .json()
                    .with_current_span(true)
                    .with_span_list(false)
                    .with_filter(shown()),
            )
            .try_init(),
        LogFormat::Pretty => registry
            .with(fmt::layer().compact().with_filter(shown()))
            .try_init(),
    };
}

/// An error the HTTP/1 layer logs about a connection: its cause is on the client's side.
fn is_client_error(meta: &Metadata<'_>) -> bool {
    *meta.level() == Level::ERROR && meta.target().starts_with("actix_http::h1")
}

/// At most one log line per interval for a condition that recurs per request or per tick (a
/// database that is down, load being shed): the line says how many were left unwritten.
#[derive(Debug)]
pub struct OncePer {
    started: std::time::Instant,
    every_ms: u64,
    /// Milliseconds since `started` before which nothing is written.
    next_ms: std::sync::atomic::AtomicU64,
    skipped: std::sync::atomic::AtomicU64,
}

impl OncePer {
    pub fn new(every: std::time::Duration) -> Self {
        Self {
            started: std::time::Instant::now(),
            every_ms: every.as_millis() as u64,
            next_ms: std::sync::atomic::AtomicU64::new(0),
            skipped: std::sync::atomic::AtomicU64::new(0),
        }
    }

    /// `Some(lines skipped since the last one)` when this one is to be written.
    pub fn due(&self) -> Option<u64> {
        use std::sync::atomic::Ordering;
        let now = self.started.elapsed().as_millis() as u64;
        let next = self.next_ms.load(Ordering::Relaxed);
        if now >= next
            && self
                .next_ms
                .compare_exchange(
                    next,
                    now + self.every_ms,
                    Ordering::Relaxed,
                    Ordering::Relaxed,
                )
                .is_ok()
        {
            return Some(self.skipped.swap(0, Ordering::Relaxed));
        }
        self.skipped.fetch_add(1, Ordering::Relaxed);
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_per_interval_and_the_rest_counted() {
        let once = OncePer::new(std::time::Duration::from_millis(50));
        assert_eq!(once.due(), Some(0));
        assert_eq!(once.due(), None);
        assert_eq!(once.due(), None);
        std::thread::sleep(std::time::Duration::from_millis(60));
        assert_eq!(once.due(), Some(2));
    }
}
