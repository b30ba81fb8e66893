//! How a check-in row came to be, and whose it is.

use super::named::named_enum;

named_enum! {
    /// Whose row of an entry: the person the scan is for, or a companion checked in with them.
    pub enum CheckInRole {
        Own = "self",
        Companion = "companion",
    }
}

named_enum! {
    /// How the entry was recorded.
    pub enum CheckInSource {
        /// The person (or their guardian) scanned the venue code.
        Scan = "scan",
        /// Venue staff typed the person in (a manual check-in).
        Manual = "manual",
        /// Venue staff scanned the person's paper code.
        Paper = "paper",
    }
}

named_enum! {
    /// Where a red-code alert stands.
    pub enum AlertStatus {
        Open = "open",
        Closed = "closed",
    }
}

named_enum! {
    /// Where a follow-up stands: open until the community records its outcome.
    pub enum FollowUpStatus {
        Open = "open",
        Closed = "closed",
    }
}

named_enum! {
    /// Why a person is followed up by their community.
    pub enum FollowUpCause {
        /// They scanned in at a venue of the region with a yellow or red code.
        Scan = "scan",
        /// An official of the region gave them a yellow or red code.
        ColorChange = "color_change",
    }
}

named_enum! {
    /// Where a colour change for a trace's contacts stands.
    pub enum ChangeStatus {
        /// Waits for a second official of the region.
        Pending = "pending",
        Applied = "applied",
    }
}

named_enum! {
    /// The mini-program platform an account came from.
    pub enum Platform {
        Wechat = "wechat",
        Alipay = "alipay",
    }
}

named_enum! {
    /// What an alert is about.
    pub enum AlertKind {
        /// A red person scanned in at a venue of the region.
        RedScan = "red_scan",
        /// Another region's trace found contacts at a venue of this region.
        Referral = "referral",
    }
}

named_enum! {
    /// What a resident's notification is about.
    pub enum NotificationKind {
        /// A stay overlapped a window declared risky.
        RiskWindow = "risk_window",
        /// Someone proved by a face check that the identity this account declared is theirs.
        IdentityReleased = "identity_released",
        /// Another account added this account's person as its companion.
        AddedAsCompanion = "added_as_companion",
        /// The county decided on a venue application this account manages.
        ReviewResult = "review_result",
        /// A health official changed the colour of this account's person or a companion's.
        HealthCode = "health_code",
    }
}

named_enum! {
    /// Where a notification stands on its way out of the inbox, as a platform message.
    pub enum Delivery {
        /// Shown in the inbox only (kinds no platform message carries, and older rows).
        InboxOnly = "inbox_only",
        /// Waiting for the sender, first or again after a failed try.
        Pending = "pending",
        /// The platform accepted the message.
        Sent = "sent",
        /// The resident has not subscribed to (or has used up) this message: not retried.
        NotSubscribed = "not_subscribed",
        /// Refused for good, or still failing after the last try.
        Failed = "failed",
        /// Nothing to send it with: no platform client or no template for the kind, or a
        /// development account.
        Skipped = "skipped",
    }
}

named_enum! {
    /// Where a face check stands.
    pub enum VerificationStatus {
        Pending = "pending",
        Verified = "verified",
        Failed = "failed",
    }
}
