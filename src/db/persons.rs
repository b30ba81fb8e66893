//! Natural persons, keyed by the keyed hash of their ID number. Names and ID numbers are sealed
//! here, on the way in, and opened here, on the way out: nothing above this module sees a sealed
//! value and nothing below it sees a clear one.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{check_ins, persons, venues};
use super::{accounts, DbConnection, DbError};
use crate::crypto::{Field, PiiCipher};
use crate::domain::{IdNumber, PersonName, RegionCode};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = persons)]
pub struct PersonRow {
    pub id: i64,
    pub id_number_hash: String,
    pub id_number_sealed: String,
    pub name_sealed: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub phone_sealed: Option<String>,
    pub phone_hash: Option<String>,
    /// When the name came from a verified identity.
    pub name_verified_at: Option<NaiveDateTime>,
}

/// A person with their data opened.
#[derive(Debug, Clone)]
pub struct Person {
    pub id: i64,
    pub id_number: IdNumber,
    pub name: PersonName,
}

/// A person as officials see them: name, ID number and a phone number when one is known.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PersonContact {
    pub name: String,
    pub id_number: String,
    pub phone: Option<String>,
}

impl PersonRow {
    pub fn open(&self, cipher: &PiiCipher) -> Result<Person, DbError> {
        let id_number = cipher
            .open(Field::IdNumber, &self.id_number_sealed)
            .map_err(|e| DbError::Other(format!("person {}: {e}", self.id)))?;
        let name = cipher
            .open(Field::Name, &self.name_sealed)
            .map_err(|e| DbError::Other(format!("person {}: {e}", self.id)))?;
        Ok(Person {
            id: self.id,
            id_number: IdNumber::parse(&id_number).map_err(|e| {
                DbError::Other(format!("person {}: stored ID number: {e}", self.id))
            })?,
            name: PersonName::parse(&name)
                .map_err(|e| DbError::Other(format!("person {}: stored name: {e}", self.id)))?,
        })
    }
}

pub fn find(conn: &mut DbConnection, id: i64) -> Result<Option<PersonRow>, DbError> {
    Ok(persons::table
        .find(id)
        .select(PersonRow::as_select())
        .first(conn)
        .optional()?)
}

/// The person, opened.
pub fn open(
    conn: &mut DbConnection,
    cipher: &PiiCipher,
    id: i64,
) -> Result<Option<Person>, DbError> {
    find(conn, id)?.map(|row| row.open(cipher)).transpose()
}

pub fn find_by_id_number(
    conn: &mut DbConnection,
    cipher: &PiiCipher,
    id_number: &IdNumber,
) -> Result<Option<PersonRow>, DbError> {
    let hash = cipher.lookup_hash(Field::IdNumber, id_number.as_ref());
    Ok(persons::table
        .filter(persons::id_number_hash.eq(hash))
        .select(PersonRow::as_select())
        .first(conn)
        .optional()?)
}

/// The person with this ID number, created with `name` if new. An existing person's name is
/// left as it is: a typed name never overwrites a person's (only a verified identity does, see
/// [`set_verified_name`]).
pub fn find_or_create(
    conn: &mut DbConnection,
    cipher: &PiiCipher,
    id_number: &IdNumber,
    name: &PersonName,
    now: NaiveDateTime,
) -> Result<PersonRow, DbError> {
    if let Some(existing) = find_by_id_number(conn, cipher, id_number)? {
        return Ok(existing);
    }
    diesel::insert_into(persons::table)
        .values((
            persons::id_number_hash.eq(cipher.lookup_hash(Field::IdNumber, id_number.as_ref())),
            persons::id_number_sealed.eq(cipher.seal(Field::IdNumber, id_number.as_ref())),
            persons::name_sealed.eq(cipher.seal(Field::Name, name.as_ref())),
            persons::created_at.eq(now),
            persons::updated_at.eq(now),
        ))
        .execute(conn)?;
    find_by_id_number(conn, cipher, id_number)?
        .ok_or_else(|| DbError::Other("a new person vanished".into()))
}

/// Writes the name a face check verified.
pub fn set_verified_name(
    conn: &mut DbConnection,
    cipher: &PiiCipher,
    person_id: i64,
    name: &PersonName,
    now: NaiveDateTime,
) -> Result<(), DbError> {
    diesel::update(persons::table.find(person_id))
        .set((
            persons::name_sealed.eq(cipher.seal(Field::Name, name.as_ref())),
            persons::name_verified_at.eq(now),
            persons::updated_at.eq(now),
        ))
        .execute(conn)?;
    Ok(())
}

/// Whether the person is within `scope`: their ID number's division code lies in it, or they
/// stayed at a venue of it since `since`.
pub fn in_region(
    conn: &mut DbConnection,
    person_id: i64,
    id_number: &IdNumber,
    scope: &RegionCode,
    since: NaiveDateTime,
) -> Result<bool, DbError> {
    let scope = scope.as_ref();
    if id_number.as_ref().starts_with(scope) {
        return Ok(true);
    }
    let stays: i64 = check_ins::table
        .inner_join(venues::table)
        .filter(check_ins::person_id.eq(person_id))
        .filter(check_ins::scanned_at.ge(since))
        .filter(venues::region_code.like(format!("{scope}%")))
        .count()
        .get_result(conn)?;
    Ok(stays > 0)
}

/// Name, ID number and phone of people, opened (an official's view). The phone is the one the
/// person's account consented to give (the platform verified it), else one a hand registration of
/// the first release stored with the person.
pub fn contacts(
    conn: &mut DbConnection,
    cipher: &PiiCipher,
    person_ids: &[i64],
) -> Result<HashMap<i64, PersonContact>, DbError> {
    let mut out = HashMap::with_capacity(person_ids.len());
    // Bounded batches keep the IN list within every backend's parameter limit.
    for batch in person_ids.chunks(5_000) {
        let rows: Vec<(i64, String, String, Option<String>)> = persons::table
            .filter(persons::id.eq_any(batch))
            .select((
                persons::id,
                persons::name_sealed,
                persons::id_number_sealed,
                persons::phone_sealed,
            ))
            .load(conn)?;
        let account_phones: HashMap<i64, String> = accounts::sealed_phones_of(conn, batch)?
            .into_iter()
            .collect();
        for (id, name, id_number, phone) in rows {
            let open = |field, sealed: &str| {
                cipher
                    .open(field, sealed)
                    .map_err(|e| DbError::Other(format!("person {id}: {e}")))
            };
            let phone = match account_phones
                .get(&id)
                .map(String::as_str)
                .or(phone.as_deref())
            {
                Some(sealed) => Some(open(Field::Phone, sealed)?),
                None => None,
            };
            out.insert(
                id,
                PersonContact {
                    name: open(Field::Name, &name)?,
                    id_number: open(Field::IdNumber, &id_number)?,
                    phone,
                },
            );
        }
    }
    Ok(out)
}
