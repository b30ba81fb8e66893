//! Deleting what is older than the retention period: check-ins, notices, traces, alerts and risky
//! windows after `RETENTION_DAYS`; people left with nothing and no account; the audit log after its
//! own period.

use chrono::{Duration, NaiveDateTime};
use diesel::dsl::{exists, not};
use diesel::prelude::*;

use super::schema::{
    accounts, alerts, audit_log, check_ins, companions, follow_ups, health_code_changes,
    health_code_imports, health_codes, identity_verifications, notifications, paper_codes, persons,
    risk_windows, test_results, trace_color_changes, traces, used_phone_proofs, vaccinations,
};
use super::{DbConnection, DbError};

/// How many rows each table lost.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Purged {
    pub counts: Vec<(&'static str, usize)>,
}

impl Purged {
    pub fn total(&self) -> usize {
        self.counts.iter().map(|(_, n)| n).sum()
    }
}

/// Deletes everything older than the retention periods. Call inside a transaction.
pub fn purge(
    conn: &mut DbConnection,
    retention_days: u32,
    audit_retention_days: u32,
    now: NaiveDateTime,
) -> Result<Purged, DbError> {
    let cutoff: NaiveDateTime = now - Duration::days(i64::from(retention_days));
    let audit_cutoff: NaiveDateTime = now - Duration::days(i64::from(audit_retention_days));
    let mut purged = Purged::default();
    let mut count = |table: &'static str, n: usize| purged.counts.push((table, n));

    // A session past its expiry opens nothing; its row only said whether it had been ended.
    count("staff_sessions", super::staff::purge_sessions(conn, now)?);
    count(
        "check_ins_of_cancelled_accounts",
        super::accounts::detach_late_check_ins(conn)?,
    );

    // Alerts go with their check-in, so old check-ins take their alerts along.
    let old_check_ins = check_ins::table
        .filter(check_ins::scanned_at.lt(cutoff))
        .select(check_ins::id.nullable());
    let old_traces = traces::table
        .filter(traces::created_at.lt(cutoff))
        .select(traces::id.nullable());
    count(
        "alerts",
        diesel::delete(
            alerts::table.filter(
                alerts::created_at
                    .lt(cutoff)
                    .or(alerts::check_in_id.eq_any(old_check_ins))
                    .or(alerts::trace_id.eq_any(old_traces)),
            ),
        )
        .execute(conn)?,
    );
    let old_windows = risk_windows::table
        .filter(risk_windows::created_at.lt(cutoff))
        .select(risk_windows::id.nullable());
    count(
        "notifications",
        diesel::delete(
            notifications::table.filter(
                notifications::created_at
                    .lt(cutoff)
                    .or(notifications::risk_window_id.eq_any(old_windows)),
            ),
        )
        .execute(conn)?,
    );
    count(
        "follow_ups",
        diesel::delete(follow_ups::table.filter(follow_ups::created_at.lt(cutoff)))
            .execute(conn)?,
    );
    count(
        "risk_windows",
        diesel::delete(risk_windows::table.filter(risk_windows::created_at.lt(cutoff)))
            .execute(conn)?,
    );
    count(
        "check_ins",
        diesel::delete(check_ins::table.filter(check_ins::scanned_at.lt(cutoff))).execute(conn)?,
    );
    let old_traces = traces::table
        .filter(traces::created_at.lt(cutoff))
        .select(traces::id);
    count(
        "trace_color_changes",
        diesel::delete(
            trace_color_changes::table.filter(trace_color_changes::trace_id.eq_any(old_traces)),
        )
        .execute(conn)?,
    );
    count(
        "traces",
        diesel::delete(traces::table.filter(traces::created_at.lt(cutoff))).execute(conn)?,
    );
    count(
        "health_code_changes",
        diesel::delete(
            health_code_changes::table.filter(health_code_changes::changed_at.lt(cutoff)),
        )
        .execute(conn)?,
    );

    count(
        "test_results",
        diesel::delete(test_results::table.filter(test_results::sampled_at.lt(cutoff)))
            .execute(conn)?,
    );

    // People left with nothing: no account, not anyone's companion, no check-in, alert, trace
    // or test result, and no colour or vaccination recorded within the period.
    let orphans = left_with_nothing(conn, cutoff, None)?;
    let people = erase_people(conn, &orphans)?;
    count("persons", people);
    count(
        "paper_codes",
        // Kept while a check-in made with one may still be kept: printed, valid 14 days, then
        // the check-in's retention period.
        diesel::delete(
            paper_codes::table.filter(
                paper_codes::created_at
                    .lt(cutoff - Duration::days(crate::crypto::paper_code::VALID_DAYS)),
            ),
        )
        .execute(conn)?,
    );
    count(
        "identity_verifications",
        diesel::delete(
            identity_verifications::table.filter(identity_verifications::created_at.lt(cutoff)),
        )
        .execute(conn)?,
    );
    count(
        "used_phone_proofs",
        diesel::delete(used_phone_proofs::table.filter(used_phone_proofs::used_at.lt(cutoff)))
            .execute(conn)?,
    );
    count(
        "health_code_imports",
        diesel::delete(
            health_code_imports::table.filter(health_code_imports::requested_at.lt(cutoff)),
        )
        .execute(conn)?,
    );
    count(
        "audit_log",
        diesel::delete(audit_log::table.filter(audit_log::at.lt(audit_cutoff))).execute(conn)?,
    );
    Ok(purged)
}

/// The people left with nothing (of `only`, when given): no account, not anyone's companion, no
/// check-in, alert, notice, trace, follow-up or test result, and no colour or vaccination recorded
/// since `cutoff`.
pub fn left_with_nothing(
    conn: &mut DbConnection,
    cutoff: NaiveDateTime,
    only: Option<&[i64]>,
) -> Result<Vec<i64>, DbError> {
    let mut query = persons::table
        .filter(not(exists(
            accounts::table.filter(accounts::person_id.eq(persons::id.nullable())),
        )))
        .filter(not(exists(
            companions::table.filter(companions::person_id.eq(persons::id)),
        )))
        .filter(not(exists(
            check_ins::table.filter(check_ins::person_id.eq(persons::id)),
        )))
        .filter(not(exists(
            alerts::table.filter(alerts::person_id.eq(persons::id.nullable())),
        )))
        .filter(not(exists(
            notifications::table.filter(notifications::person_id.eq(persons::id.nullable())),
        )))
        .filter(not(exists(
            traces::table.filter(traces::case_person_id.eq(persons::id)),
        )))
        .filter(not(exists(
            follow_ups::table.filter(follow_ups::person_id.eq(persons::id)),
        )))
        .filter(not(exists(
            health_codes::table
                .filter(health_codes::person_id.eq(persons::id))
                .filter(health_codes::updated_at.ge(cutoff)),
        )))
        .filter(not(exists(
            health_code_changes::table.filter(health_code_changes::person_id.eq(persons::id)),
        )))
        .filter(not(exists(
            test_results::table.filter(test_results::person_id.eq(persons::id)),
        )))
        .filter(not(exists(
            vaccinations::table
                .filter(vaccinations::person_id.eq(persons::id))
                .filter(vaccinations::recorded_at.ge(cutoff)),
        )))
        .select(persons::id)
        .into_boxed();
    if let Some(people) = only {
        query = query.filter(persons::id.eq_any(people.to_vec()));
    }
    Ok(query.load(conn)?)
}

/// Erases these people with their colours, paper codes and vaccinations; how many.
pub fn erase_people(conn: &mut DbConnection, people: &[i64]) -> Result<usize, DbError> {
    let mut erased = 0;
    for batch in people.chunks(5_000) {
        diesel::delete(health_codes::table.filter(health_codes::person_id.eq_any(batch)))
            .execute(conn)?;
        diesel::delete(paper_codes::table.filter(paper_codes::person_id.eq_any(batch)))
            .execute(conn)?;
        diesel::delete(vaccinations::table.filter(vaccinations::person_id.eq_any(batch)))
            .execute(conn)?;
        erased += diesel::delete(persons::table.filter(persons::id.eq_any(batch))).execute(conn)?;
    }
    Ok(erased)
}
