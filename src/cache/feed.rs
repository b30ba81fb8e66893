//! Reading `cache_changes` in order without missing a change. Numbers are handed out when a change
//! is written but become visible when its transaction commits, so a later number can be seen
//! before an earlier one: a number skipped over is a gap, read again until it shows up or, after
//! [`GAP_WAIT`], is taken for a transaction that rolled back.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// How long a skipped number is waited for.
pub const GAP_WAIT: Duration = Duration::from_secs(10);
/// Skipped numbers beyond this many are not tracked (a burst of rolled-back changes).
const MAX_GAPS: i64 = 10_000;

#[derive(Debug, Default)]
pub struct Feed {
    last: i64,
    gaps: BTreeMap<i64, Instant>,
}

impl Feed {
    /// A feed that starts after `head`: what happened before is already in the database.
    pub fn after(head: i64) -> Self {
        Self {
            last: head,
            gaps: BTreeMap::new(),
        }
    }

    /// Read changes with numbers above this.
    pub fn read_after(&self) -> i64 {
        self.gaps
            .keys()
            .next()
            .map_or(self.last, |gap| (gap - 1).min(self.last))
    }

    /// Takes the rows read (in order of number) and answers the keys not taken before.
    pub fn take(&mut self, rows: Vec<(i64, String)>, now: Instant) -> Vec<String> {
        let mut keys = Vec::new();
        for (seq, key) in rows {
            if seq <= self.last {
                if self.gaps.remove(&seq).is_some() {
                    keys.push(key);
                }
                continue;
            }
            if seq - self.last - 1 <= MAX_GAPS {
                for missing in self.last + 1..seq {
                    self.gaps.insert(missing, now);
                }
            }
            self.last = seq;
            keys.push(key);
        }
        self.gaps
            .retain(|_, seen| now.saturating_duration_since(*seen) < GAP_WAIT);
        keys
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(seqs: &[i64]) -> Vec<(i64, String)> {
        seqs.iter().map(|s| (*s, format!("k{s}"))).collect()
    }

    #[test]
    fn a_number_committed_late_is_still_taken_once() {
        let now = Instant::now();
        let mut feed = Feed::after(10);
        assert_eq!(feed.take(rows(&[11, 13]), now), ["k11", "k13"]);
        assert_eq!(feed.read_after(), 11, "12 is awaited");
        assert_eq!(feed.take(rows(&[12, 13, 14]), now), ["k12", "k14"]);
        assert_eq!(feed.read_after(), 14);
    }

    #[test]
    fn a_gap_that_never_fills_is_given_up() {
        let now = Instant::now();
        let mut feed = Feed::after(0);
        feed.take(rows(&[2]), now);
        assert_eq!(feed.read_after(), 0);
        feed.take(Vec::new(), now + GAP_WAIT);
        assert_eq!(feed.read_after(), 2);
    }
}
