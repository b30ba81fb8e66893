//! Natural persons, keyed by the keyed hash of what they are known by: an identity document, or
//! the mobile number of someone registered by hand without one. Names and numbers are sealed
//! here, on the way in, and opened here, on the way out: nothing above this module sees a sealed
//! value and nothing below it sees a clear one.

use std::collections::HashMap;

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::schema::{check_ins, persons, venues};
use super::{accounts, DbConnection, DbError};
use crate::crypto::{Field, PiiCipher};
pub use crate::domain::PersonKey;
use crate::domain::{IdDocument, IdType, PersonName, RegionCode, MOBILE};

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
    /// The document's kind, or [`MOBILE`] for someone known by their mobile number only.
    pub id_type: String,
    /// Given beside a document that carries none.
    pub birth_date: Option<NaiveDate>,
    /// The region of the official who first named someone whose document names none.
    pub region_code: Option<String>,
}

fn hash(key: &PersonKey, cipher: &PiiCipher) -> String {
    cipher.lookup_hash(Field::IdNumber, &key.lookup_text())
}

fn stored_type(key: &PersonKey) -> &'static str {
    match key {
        PersonKey::Document(document) => document.kind().as_str(),
        PersonKey::Mobile(_) => MOBILE,
    }
}

/// A person with their data opened.
#[derive(Debug, Clone)]
pub struct Person {
    pub id: i64,
    /// `None` for someone registered by hand with a mobile number only.
    pub document: Option<IdDocument>,
    /// From the document, or given beside one that carries none.
    pub birth_date: Option<NaiveDate>,
    pub name: PersonName,
}

impl Person {
    /// The document's kind; `None` for the mobile-only.
    pub fn id_type(&self) -> Option<IdType> {
        self.document.as_ref().map(IdDocument::kind)
    }

    /// The document's number in full (officials' views); `None` for the mobile-only.
    pub fn id_number(&self) -> Option<String> {
        self.document.as_ref().map(|d| d.number().to_owned())
    }

    /// The document's number masked (venues' and residents' views); `None` for the mobile-only.
    pub fn masked_id_number(&self) -> Option<String> {
        self.document.as_ref().map(IdDocument::masked)
    }
}

/// A person as officials see them: name, document and a phone number when one is known.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PersonContact {
    pub name: String,
    /// `None` for someone registered by hand with a mobile number only.
    pub id_type: Option<IdType>,
    pub id_number: Option<String>,
    pub phone: Option<String>,
}

/// The document of a stored person (`None` for the mobile-only), as the row keeps it.
fn stored_document(id: i64, id_type: &str, number: &str) -> Result<Option<IdDocument>, DbError> {
    if id_type == MOBILE {
        return Ok(None);
    }
    let broken =
        |e: crate::domain::FieldError| DbError::Other(format!("person {id}: stored document: {e}"));
    let kind = IdType::parse(Some(id_type)).map_err(broken)?;
    IdDocument::parse(kind, number).map(Some).map_err(broken)
}

impl PersonRow {
    pub fn open(&self, cipher: &PiiCipher) -> Result<Person, DbError> {
        let number = cipher
            .open(Field::IdNumber, &self.id_number_sealed)
            .map_err(|e| DbError::Other(format!("person {}: {e}", self.id)))?;
        let name = cipher
            .open(Field::Name, &self.name_sealed)
            .map_err(|e| DbError::Other(format!("person {}: {e}", self.id)))?;
        let document = stored_document(self.id, &self.id_type, &number)?;
        Ok(Person {
            id: self.id,
            birth_date: document
                .as_ref()
                .and_then(IdDocument::birth_date)
                .or(self.birth_date),
            document,
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

/// The person with this document.
pub fn find_by_document(
    conn: &mut DbConnection,
    cipher: &PiiCipher,
    document: &IdDocument,
) -> Result<Option<PersonRow>, DbError> {
    find_by_key(conn, cipher, &PersonKey::Document(document.clone()))
}

fn find_by_key(
    conn: &mut DbConnection,
    cipher: &PiiCipher,
    key: &PersonKey,
) -> Result<Option<PersonRow>, DbError> {
    Ok(persons::table
        .filter(
            persons::id_number_hash
                .eq_any(cipher.lookup_hashes(Field::IdNumber, &key.lookup_text())),
        )
        .select(PersonRow::as_select())
        .first(conn)
        .optional()?)
}

/// Someone to find or create: what they are known by, the name typed for them, and the birth
/// date given beside a document that carries none.
#[derive(Debug, Clone)]
pub struct NewPerson<'a> {
    pub key: &'a PersonKey,
    pub name: &'a PersonName,
    pub birth_date: Option<NaiveDate>,
    /// The region of the official naming them, kept for a new person whose document names no
    /// home region (see [`in_region`]).
    pub region: Option<&'a RegionCode>,
}

/// The person with this document (or mobile number), created if new. An existing person's name
/// is left as it is: a typed name never overwrites a person's (only a verified identity does, see
/// [`set_verified_name`]); a birth date is written only where none was known.
pub fn find_or_create(
    conn: &mut DbConnection,
    cipher: &PiiCipher,
    new: NewPerson<'_>,
    now: NaiveDateTime,
) -> Result<PersonRow, DbError> {
    let key = new.key;
    let given_birth = match key.document() {
        Some(document) if document.birth_date().is_none() => new.birth_date,
        _ => None,
    };
    if let Some(existing) = find_by_key(conn, cipher, key)? {
        if existing.birth_date.is_none() && given_birth.is_some() {
            diesel::update(persons::table.find(existing.id))
                .set((
                    persons::birth_date.eq(given_birth),
                    persons::updated_at.eq(now),
                ))
                .execute(conn)?;
            return find(conn, existing.id)?
                .ok_or_else(|| DbError::Other("a person vanished".into()));
        }
        return Ok(existing);
    }
    let phone = match key {
        PersonKey::Mobile(mobile) => Some(mobile),
        PersonKey::Document(_) => None,
    };
    let region = match key.document() {
        Some(document) if document.division().is_some() => None,
        _ => new.region.map(|r| r.as_ref().to_owned()),
    };
    diesel::insert_into(persons::table)
        .values((
            persons::id_number_hash.eq(hash(key, cipher)),
            persons::id_number_sealed.eq(cipher.seal(Field::IdNumber, key.number())),
            persons::id_type.eq(stored_type(key)),
            persons::birth_date.eq(given_birth),
            persons::region_code.eq(region),
            persons::name_sealed.eq(cipher.seal(Field::Name, new.name.as_ref())),
            persons::phone_sealed.eq(phone.map(|p| cipher.seal(Field::Phone, p.as_ref()))),
            persons::phone_hash.eq(phone.map(|p| cipher.lookup_hash(Field::Phone, p.as_ref()))),
            persons::created_at.eq(now),
            persons::updated_at.eq(now),
        ))
        .execute(conn)?;
    find_by_key(conn, cipher, key)?.ok_or_else(|| DbError::Other("a new person vanished".into()))
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

/// Whether the person is within `scope`: their resident ID's division code lies in it, or (for
/// the other documents and the mobile-only, which name no home region) the official who first
/// named them was of it, or they stayed at a venue of it since `since`.
pub fn in_region(
    conn: &mut DbConnection,
    person: &PersonRow,
    document: Option<&IdDocument>,
    scope: &RegionCode,
    since: NaiveDateTime,
) -> Result<bool, DbError> {
    let scope = scope.as_ref();
    if document
        .and_then(IdDocument::division)
        .is_some_and(|division| division.starts_with(scope))
    {
        return Ok(true);
    }
    if person
        .region_code
        .as_deref()
        .is_some_and(|named| named.starts_with(scope))
    {
        return Ok(true);
    }
    // A stay venue staff typed in proves nothing about where a person was: any venue could type
    // anyone's number and so hand that person to its region's officials. Only stays the person's
    // own or their guardian's account recorded (a scan, a paper code) count, but for a traveller
    // without a home region and without an account, whose only tie to a region may be a desk.
    let typed_stays_count = document.is_some_and(|d| d.division().is_none())
        && accounts::owner_of(conn, person.id)?.is_none();
    let mut stays = check_ins::table
        .inner_join(venues::table)
        .filter(check_ins::person_id.eq(person.id))
        .filter(check_ins::scanned_at.ge(since))
        .filter(venues::region_code.like(format!("{scope}%")))
        .count()
        .into_boxed();
    if !typed_stays_count {
        stays = stays.filter(check_ins::source.ne(crate::domain::CheckInSource::Manual));
    }
    let stays: i64 = stays.get_result(conn)?;
    Ok(stays > 0)
}

/// Name, document and phone of people, opened (an official's view). The phone is the one the
/// person's account consented to give (the platform verified it), else one a manual check-in of
/// the first release stored with the person.
pub fn contacts(
    conn: &mut DbConnection,
    cipher: &PiiCipher,
    person_ids: &[i64],
) -> Result<HashMap<i64, PersonContact>, DbError> {
    let mut out = HashMap::with_capacity(person_ids.len());
    // Bounded batches keep the IN list within every backend's parameter limit.
    for batch in person_ids.chunks(5_000) {
        let rows: Vec<(i64, String, String, String, Option<String>)> = persons::table
            .filter(persons::id.eq_any(batch))
            .select((
                persons::id,
                persons::name_sealed,
                persons::id_type,
                persons::id_number_sealed,
                persons::phone_sealed,
            ))
            .load(conn)?;
        let account_phones: HashMap<i64, String> = accounts::sealed_phones_of(conn, batch)?
            .into_iter()
            .collect();
        for (id, name, id_type, number, phone) in rows {
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
            let document = stored_document(id, &id_type, &open(Field::IdNumber, &number)?)?;
            out.insert(
                id,
                PersonContact {
                    name: open(Field::Name, &name)?,
                    id_type: document.as_ref().map(IdDocument::kind),
                    id_number: document.map(|d| d.number().to_owned()),
                    phone,
                },
            );
        }
    }
    Ok(out)
}
