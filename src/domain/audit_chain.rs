//! What walking the audit log's hash chain can find.

/// What walking the chain found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChainReport {
    Intact {
        entries: usize,
    },
    /// The first entry whose content no longer matches its hash (it was changed).
    Changed {
        seq: i64,
        id: i64,
    },
    /// An entry points at a predecessor that is not the one before it (entries were removed or
    /// reordered) — reported at the first entry after the gap.
    Broken {
        seq: i64,
        id: i64,
    },
    /// The newest entries are missing: the chain ends before the head says it should.
    Truncated {
        last_seq: i64,
        head_seq: i64,
    },
    /// An entry was made under a key that is no longer configured, so it cannot be checked:
    /// `venuecode keys reseal` moves entries to the current key before the old one is removed.
    KeyMissing {
        seq: i64,
        id: i64,
        key_id: String,
    },
}
