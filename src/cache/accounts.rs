//! What the scan needs to know about an account: its consent, the person it holds under the name
//! it goes by, and its companions under the names it gave them.

use crate::db::persons::Person;

#[derive(Debug, Clone)]
pub struct AccountSnapshot {
    pub id: i64,
    /// The consent elements not given yet, in the seeds' order; empty when all three are.
    pub missing_consent: Vec<&'static str>,
    /// The account's own person, under its declared (or verified) name.
    pub me: Option<Person>,
    pub verified: bool,
    pub companions: Vec<CompanionSnapshot>,
}

#[derive(Debug, Clone)]
pub struct CompanionSnapshot {
    pub id: i64,
    /// Under the name the account gave them, with the birth date that judges their age.
    pub person: Person,
    /// Whether the account may check them in (see `db::companions::Held::accepted`).
    pub accepted: bool,
    /// Whether the person has an account of their own: the door then shows the account only
    /// their verdict, not their health details.
    pub own_account: bool,
}
