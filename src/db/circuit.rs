//! The database circuit: after repeated connection failures, calls fail at once (503
//! `database_unavailable`) instead of each waiting out a checkout timeout against a database that
//! is down. While open, one call now and then is let through as a probe; the first that reaches
//! the database closes the circuit again. The change feed's reader calls every `CACHE_SYNC_MS`,
//! so a quiet node also notices recovery within a probe interval.

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Consecutive connection failures that open the circuit. One dropped connection (a server that
/// ended an idle session) is a failure but does not open it.
const FAILURES_TO_OPEN: u32 = 3;
/// How long the circuit stays open before a probe is let through.
const OPEN_FOR: Duration = Duration::from_millis(250);
/// A probe that never reported (its caller was cancelled) no longer blocks the next one.
const PROBE_LOST_AFTER: Duration = Duration::from_secs(2);

/// What the circuit is doing, for `/metrics`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CircuitState {
    Closed = 0,
    Open = 1,
    Probing = 2,
}

#[derive(Debug)]
pub struct Circuit {
    started: Instant,
    failures: AtomicU32,
    /// Milliseconds since `started` until which calls are refused; 0 when closed.
    open_until: AtomicU64,
    /// Milliseconds since `started` at which the current probe began; 0 when none is out.
    probe_since: AtomicU64,
    opened_total: AtomicU64,
}

/// The circuit refused the call without trying the database.
#[derive(Debug, Clone, Copy)]
pub struct Open;

impl Default for Circuit {
    fn default() -> Self {
        Self {
            started: Instant::now(),
            failures: AtomicU32::new(0),
            open_until: AtomicU64::new(0),
            probe_since: AtomicU64::new(0),
            opened_total: AtomicU64::new(0),
        }
    }
}

impl Circuit {
    /// Milliseconds since start, never 0 (0 means "none" above).
    fn now(&self) -> u64 {
        self.started.elapsed().as_millis() as u64 + 1
    }

    /// May a call try the database now? While open, only the one probe may.
    pub fn admit(&self) -> Result<(), Open> {
        let until = self.open_until.load(Ordering::Acquire);
        if until == 0 {
            return Ok(());
        }
        let now = self.now();
        if now < until {
            return Err(Open);
        }
        let probe = self.probe_since.load(Ordering::Acquire);
        let lost = probe != 0 && now.saturating_sub(probe) > PROBE_LOST_AFTER.as_millis() as u64;
        if (probe == 0 || lost)
            && self
                .probe_since
                .compare_exchange(probe, now, Ordering::AcqRel, Ordering::Acquire)
                .is_ok()
        {
            return Ok(());
        }
        Err(Open)
    }

    /// The database answered.
    pub fn succeeded(&self) {
        if self.failures.load(Ordering::Relaxed) != 0 {
            self.failures.store(0, Ordering::Relaxed);
        }
        if self.open_until.load(Ordering::Acquire) != 0 {
            self.open_until.store(0, Ordering::Release);
            self.probe_since.store(0, Ordering::Release);
            tracing::warn!("database reachable again; circuit closed");
        }
    }

    /// A connection could not be had, or broke.
    pub fn failed(&self, reason: &str) {
        let failures = self.failures.fetch_add(1, Ordering::Relaxed) + 1;
        let was_open = self.open_until.load(Ordering::Acquire) != 0;
        if failures >= FAILURES_TO_OPEN || was_open {
            self.open_until
                .store(self.now() + OPEN_FOR.as_millis() as u64, Ordering::Release);
            self.probe_since.store(0, Ordering::Release);
            if !was_open {
                self.opened_total.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(failures, %reason, "database unreachable; circuit open");
            }
        }
    }

    pub fn state(&self) -> CircuitState {
        if self.open_until.load(Ordering::Acquire) == 0 {
            CircuitState::Closed
        } else if self.probe_since.load(Ordering::Acquire) != 0 {
            CircuitState::Probing
        } else {
            CircuitState::Open
        }
    }

    /// How many times the circuit has opened since start.
    pub fn opened_total(&self) -> u64 {
        self.opened_total.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opens_after_repeated_failures_and_lets_one_probe_through() {
        let circuit = Circuit::default();
        circuit.failed("refused");
        circuit.failed("refused");
        assert!(circuit.admit().is_ok(), "two failures leave it closed");
        circuit.failed("refused");
        assert_eq!(circuit.state(), CircuitState::Open);
        assert!(circuit.admit().is_err());
        std::thread::sleep(OPEN_FOR + Duration::from_millis(20));
        assert!(circuit.admit().is_ok(), "the probe");
        assert!(circuit.admit().is_err(), "only one probe at a time");
        circuit.failed("still refused");
        assert!(circuit.admit().is_err(), "a failed probe opens it again");
        std::thread::sleep(OPEN_FOR + Duration::from_millis(20));
        assert!(circuit.admit().is_ok());
        circuit.succeeded();
        assert_eq!(circuit.state(), CircuitState::Closed);
        assert!(circuit.admit().is_ok() && circuit.admit().is_ok());
        assert_eq!(circuit.opened_total(), 1);
    }

    #[test]
    fn a_success_between_failures_keeps_it_closed() {
        let circuit = Circuit::default();
        for _ in 0..10 {
            circuit.failed("one dropped connection");
            circuit.failed("another");
            circuit.succeeded();
        }
        assert_eq!(circuit.state(), CircuitState::Closed);
    }
}
