//! Nucleic-acid results and vaccinations, imported in bulk by health officials of the people's
//! region; the door shows them within a second on every node.

use std::sync::Arc;

use super::audit;
use super::cache_sync::changed;
use super::health_codes::{resolve_people, HealthCodeError, NAMED_COLOR_CHANGES};
use crate::auth::Staff;
use crate::cache::CacheKey;
use crate::db::test_results::{self, NewRecord};
use crate::domain::{IdDocument, PersonName, TestOnRecord, VaccinationOnRecord};
use crate::state::AppState;

/// One row of a test and vaccination import, validated at the edge: a result with its sampling
/// time, a vaccination, or both.
#[derive(Debug, Clone)]
pub struct NewTestRecord {
    pub document: IdDocument,
    /// Needed only when the document is not yet known to the system.
    pub name: Option<PersonName>,
    pub test: Option<TestOnRecord>,
    pub vaccination: Option<VaccinationOnRecord>,
}

/// Nucleic-acid results and vaccinations of people of the official's region, all or nothing;
/// the door shows them within a second on every node. One audit entry per person. Returns the
/// rows written.
pub async fn import(
    state: &Arc<AppState>,
    official: &Staff,
    rows: Vec<NewTestRecord>,
) -> Result<usize, HealthCodeError> {
    let official = official.clone();
    state
        .write(move |state, conn| {
            let named: Vec<(&IdDocument, Option<&PersonName>)> = rows
                .iter()
                .map(|r| (&r.document, r.name.as_ref()))
                .collect();
            let people = resolve_people(state, conn, &official, &named, |i, field| {
                format!("results[{i}].{field}")
            })?;
            let records: Vec<NewRecord> = rows
                .iter()
                .zip(&people)
                .map(|(row, person_id)| NewRecord {
                    person_id: *person_id,
                    test: row.test,
                    vaccination: row.vaccination,
                })
                .collect();
            test_results::import(conn, &records, official.id, state.clock.now_naive())?;
            let entries: Vec<_> = people
                .iter()
                .map(|id| audit::by_staff(&official, "test_result.set", format!("person:{id}"), 1))
                .collect();
            audit::record(state, conn, &entries)?;
            let keys: Vec<CacheKey> = if people.len() > NAMED_COLOR_CHANGES {
                vec![CacheKey::AllColors]
            } else {
                people.iter().map(|id| CacheKey::Color(*id)).collect()
            };
            changed(state, conn, &keys)?;
            Ok(records.len())
        })
        .await
}
