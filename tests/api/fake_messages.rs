//! What the fake platforms do with messages to users: the WeChat subscribe message and the
//! Alipay template message each check the request as documented, then answer from here: a user
//! who has not subscribed, a busy platform for the next few tries, or a message taken.

use std::collections::{BTreeMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

/// Template ids the fakes know, one per kind of notification sent.
pub const RISK_WINDOW_TEMPLATE: &str = "tmpl-risk-window";
pub const REVIEW_RESULT_TEMPLATE: &str = "tmpl-review-result";
pub const HEALTH_CODE_TEMPLATE: &str = "tmpl-health-code";
pub const TEMPLATES: [&str; 3] = [
    RISK_WINDOW_TEMPLATE,
    REVIEW_RESULT_TEMPLATE,
    HEALTH_CODE_TEMPLATE,
];

/// One message the platform took.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Taken {
    pub recipient: String,
    pub template: String,
    pub page: String,
    /// Field key → value.
    pub values: BTreeMap<String, String>,
}

/// What the platform answers a well-formed message.
pub enum Answer {
    Taken,
    NotSubscribed,
    Busy,
}

#[derive(Default)]
pub struct Messages {
    taken: Mutex<Vec<Taken>>,
    unsubscribed: Mutex<HashSet<String>>,
    busy_tries: AtomicUsize,
    tries: AtomicUsize,
}

impl Messages {
    /// `recipient` has not subscribed: every message to them is refused.
    pub fn unsubscribe(&self, recipient: &str) {
        self.unsubscribed
            .lock()
            .unwrap()
            .insert(recipient.to_owned());
    }

    /// The next `tries` well-formed messages find the platform busy.
    pub fn busy_for(&self, tries: usize) {
        self.busy_tries.store(tries, Ordering::SeqCst);
    }

    pub fn taken(&self) -> Vec<Taken> {
        self.taken.lock().unwrap().clone()
    }

    /// Well-formed messages received, taken or not.
    pub fn tries(&self) -> usize {
        self.tries.load(Ordering::SeqCst)
    }

    pub fn answer(&self, message: Taken) -> Answer {
        self.tries.fetch_add(1, Ordering::SeqCst);
        if self
            .unsubscribed
            .lock()
            .unwrap()
            .contains(&message.recipient)
        {
            return Answer::NotSubscribed;
        }
        let busy = self
            .busy_tries
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok();
        if busy {
            return Answer::Busy;
        }
        self.taken.lock().unwrap().push(message);
        Answer::Taken
    }
}
