//! The door page: the venue, each person masked with their colour and verdict, the worst
//! verdict on top with its notice, and a signed pass.

use std::collections::HashMap;

use serde::Serialize;

use super::Attendee;
use crate::crypto::passes::{PassPerson, PassVenue};
use crate::db::check_ins::CheckInRow;
use crate::domain::scan::{self as rules, EntranceSnapshot};
use crate::domain::{
    CheckInRole, HealthColor, IdType, PersonHealth, Temperature, TestResult, Verdict,
};
use crate::state::AppState;

/// The door page.
#[derive(Debug, Serialize)]
pub struct DoorPage {
    pub check_in_id: i64,
    pub scanned_at: String,
    pub offline: bool,
    pub venue: VenueOnPage,
    pub verdict: Verdict,
    pub people: Vec<PersonOnPage>,
    pub pass: PassOnPage,
    pub notice: String,
}

#[derive(Debug, Serialize)]
pub struct VenueOnPage {
    pub id: i64,
    pub name: String,
    pub entrance: String,
    pub address: String,
    pub category: String,
}

#[derive(Debug, Serialize)]
pub struct PersonOnPage {
    pub role: CheckInRole,
    pub name: String,
    /// `None` with the number for someone registered by hand with a mobile number only.
    pub id_type: Option<IdType>,
    /// Masked.
    pub id_number: Option<String>,
    pub health: HealthOnPage,
    /// °C, when venue staff took it at a manual check-in.
    pub temperature: Option<f64>,
    pub verdict: Verdict,
    pub check_in_id: i64,
}

#[derive(Debug, Serialize)]
pub struct HealthOnPage {
    pub color: HealthColor,
    pub updated_at: Option<String>,
    /// The latest nucleic-acid result on record.
    pub test: Option<TestOnPage>,
    pub vaccination: Option<VaccinationOnPage>,
}

#[derive(Debug, Serialize)]
pub struct TestOnPage {
    pub result: TestResult,
    pub sampled_at: String,
}

#[derive(Debug, Serialize)]
pub struct VaccinationOnPage {
    pub doses: i16,
    /// `YYYY-MM-DD`, when known.
    pub last_dose_on: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct PassOnPage {
    pub token: String,
    pub expires_at: String,
}

/// The page shown at the door: the venue, each person masked with their colour and verdict, the
/// worst verdict on top with its notice, and a signed pass.
pub(super) fn door_page(
    state: &AppState,
    entrance: &EntranceSnapshot,
    rows: &[CheckInRow],
    attendees: &[Attendee],
    health: &HashMap<i64, PersonHealth>,
) -> DoorPage {
    let clock = &state.clock;
    let mut causes = Vec::with_capacity(rows.len());
    let people: Vec<PersonOnPage> =
        rows.iter()
            .zip(attendees)
            .map(|(row, attendee)| {
                // A repeat answers the earlier rows, with each person's health as it is now.
                let known = &health[&row.person_id];
                let temperature = row.temperature_dc.map(Temperature::from_tenths);
                let (verdict, cause) = rules::verdict(
                    state.settings.scan.fever_from,
                    entrance.test_required_hours,
                    known,
                    row.scanned_at,
                    temperature,
                );
                causes.push((verdict, cause, temperature));
                PersonOnPage {
                    role: attendee.role,
                    name: attendee.person.name.masked(),
                    id_type: attendee.person.id_type(),
                    id_number: attendee.person.masked_id_number(),
                    health: HealthOnPage {
                        color: known.color.color,
                        // When an official last changed it is the person's business too.
                        updated_at: known
                            .color
                            .updated_at
                            .filter(|_| attendee.health_details)
                            .map(|t| clock.show(t)),
                        test: known
                            .test
                            .filter(|_| attendee.health_details)
                            .map(|t| TestOnPage {
                                result: t.result,
                                sampled_at: clock.show(t.sampled_at),
                            }),
                        vaccination: known.vaccination.filter(|_| attendee.health_details).map(
                            |v| VaccinationOnPage {
                                doses: v.doses,
                                last_dose_on: v.last_dose_on.map(|d| d.to_string()),
                            },
                        ),
                    },
                    temperature: temperature.map(Temperature::celsius),
                    verdict,
                    check_in_id: row.id,
                }
            })
            .collect();
    let verdict = Verdict::worst(people.iter().map(|p| p.verdict));
    let notice = rules::door_notice(
        state.settings.scan.fever_from,
        entrance.test_required_hours,
        verdict,
        &causes,
    );
    let scanned_at = clock.show(rows[0].scanned_at);
    let (token, expires_at) = state.passes.issue(
        clock.now(),
        rows[0].id,
        scanned_at.clone(),
        PassVenue {
            id: entrance.venue_id,
            name: entrance.venue_name.clone(),
            entrance: entrance.entrance_name.clone(),
        },
        verdict,
        people
            .iter()
            .map(|p| PassPerson {
                role: p.role.as_str().to_owned(),
                name: p.name.clone(),
                id_type: p.id_type,
                id_number: p.id_number.clone(),
                color: p.health.color,
                verdict: p.verdict,
            })
            .collect(),
    );
    DoorPage {
        check_in_id: rows[0].id,
        scanned_at,
        offline: rows[0].offline,
        venue: VenueOnPage {
            id: entrance.venue_id,
            name: entrance.venue_name.clone(),
            entrance: entrance.entrance_name.clone(),
            address: entrance.full_address.clone(),
            category: entrance.category_label.clone(),
        },
        verdict,
        people,
        pass: PassOnPage {
            token,
            expires_at: clock.show_utc(expires_at),
        },
        notice,
    }
}
