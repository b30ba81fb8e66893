//! Nucleic-acid results and vaccination status, imported by health officials: the latest result
//! and the vaccination of each person are shown at the door.

use std::collections::HashMap;

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::schema::{test_results, vaccinations};
use super::{DbConnection, DbError};
use crate::domain::{TestOnRecord, TestResult, VaccinationOnRecord};

/// One row of an import, resolved to its person.
#[derive(Debug, Clone)]
pub struct NewRecord {
    pub person_id: i64,
    pub test: Option<TestOnRecord>,
    pub vaccination: Option<VaccinationOnRecord>,
}

/// Writes an import's results and vaccinations (a vaccination replaces the person's earlier
/// one). Call inside a transaction.
pub fn import(
    conn: &mut DbConnection,
    records: &[NewRecord],
    staff_id: i64,
    now: NaiveDateTime,
) -> Result<(), DbError> {
    let results: Vec<_> = records
        .iter()
        .filter_map(|r| Some((r.person_id, r.test?)))
        .map(|(person_id, test)| {
            (
                test_results::person_id.eq(person_id),
                test_results::result.eq(test.result),
                test_results::sampled_at.eq(test.sampled_at),
                test_results::recorded_by.eq(staff_id),
                test_results::recorded_at.eq(now),
            )
        })
        .collect();
    for batch in results.chunks(500) {
        crate::per_backend!(conn, |c| diesel::insert_into(test_results::table)
            .values(batch)
            .execute(c))?;
    }
    for record in records {
        let Some(vaccination) = record.vaccination else {
            continue;
        };
        crate::per_backend!(conn, |c| diesel::insert_into(vaccinations::table)
            .values((
                vaccinations::person_id.eq(record.person_id),
                vaccinations::doses.eq(vaccination.doses),
                vaccinations::last_dose_on.eq(vaccination.last_dose_on),
                vaccinations::recorded_by.eq(staff_id),
                vaccinations::recorded_at.eq(now),
            ))
            .on_conflict(vaccinations::person_id)
            .do_update()
            .set((
                vaccinations::doses.eq(vaccination.doses),
                vaccinations::last_dose_on.eq(vaccination.last_dose_on),
                vaccinations::recorded_by.eq(staff_id),
                vaccinations::recorded_at.eq(now),
            ))
            .execute(c))?;
    }
    Ok(())
}

/// The latest result of each of these people that has one.
pub fn latest(
    conn: &mut DbConnection,
    person_ids: &[i64],
) -> Result<HashMap<i64, TestOnRecord>, DbError> {
    let rows: Vec<(i64, TestResult, NaiveDateTime)> = test_results::table
        .filter(test_results::person_id.eq_any(person_ids))
        .order((test_results::person_id, test_results::sampled_at.desc()))
        .select((
            test_results::person_id,
            test_results::result,
            test_results::sampled_at,
        ))
        .load(conn)?;
    let mut latest = HashMap::new();
    for (person_id, result, sampled_at) in rows {
        latest
            .entry(person_id)
            .or_insert(TestOnRecord { result, sampled_at });
    }
    Ok(latest)
}

/// The vaccination of each of these people that has one.
pub fn vaccinations_of(
    conn: &mut DbConnection,
    person_ids: &[i64],
) -> Result<HashMap<i64, VaccinationOnRecord>, DbError> {
    Ok(vaccinations::table
        .filter(vaccinations::person_id.eq_any(person_ids))
        .select((
            vaccinations::person_id,
            vaccinations::doses,
            vaccinations::last_dose_on,
        ))
        .load::<(i64, i16, Option<NaiveDate>)>(conn)?
        .into_iter()
        .map(|(id, doses, last_dose_on)| {
            (
                id,
                VaccinationOnRecord {
                    doses,
                    last_dose_on,
                },
            )
        })
        .collect())
}
