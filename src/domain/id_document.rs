//! Identity documents beside the resident ID card: passports, the permits of residents of Hong
//! Kong, Macao and Taiwan, and the foreign permanent-resident ID card. Each kind has its own
//! format, and its own way of being masked.

use chrono::NaiveDate;

use super::id_number::{check_character, latest_today};
use super::named::{named_enum, parse_named};
use super::{mask_id_number, FieldCode, FieldError, FieldErrors, IdNumber, MobileNumber};

named_enum! {
    /// The kind of an identity document.
    pub enum IdType {
        /// 居民身份证 (the default where none is named).
        ResidentId = "resident_id",
        /// 护照.
        Passport = "passport",
        /// 港澳居民来往内地通行证.
        HkMacaoPermit = "hk_macao_permit",
        /// 台湾居民来往大陆通行证.
        TaiwanPermit = "taiwan_permit",
        /// 外国人永久居留身份证 (the 2023 card: 18 characters starting with 9).
        ForeignPermanentResident = "foreign_permanent_resident",
    }
}

impl IdType {
    /// The kind a request names, exactly as one of the names (a code picked from a list, not typed
    /// text: no white space around it, never blank); the resident ID card when it names none. A
    /// spreadsheet's blank cell is no name (`None`).
    pub fn parse(input: Option<&str>) -> Result<Self, FieldError> {
        match input {
            None => Ok(IdType::ResidentId),
            Some(text) => parse_named(
                // Padded is no name either: the error lists the names.
                if text.trim() == text { text } else { "" },
                Self::ALL,
                Self::as_str,
                FieldCode::IdTypeInvalid,
                "证件类型",
            ),
        }
    }

    /// The document's name, as people read it.
    pub fn label(self) -> &'static str {
        match self {
            IdType::ResidentId => "居民身份证",
            IdType::Passport => "护照",
            IdType::HkMacaoPermit => "港澳居民来往内地通行证",
            IdType::TaiwanPermit => "台湾居民来往大陆通行证",
            IdType::ForeignPermanentResident => "外国人永久居留身份证",
        }
    }
}

/// A document of a known kind whose number has that kind's format. Numbers are kept upper case.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct IdDocument {
    kind: IdType,
    number: String,
}

impl IdDocument {
    pub fn parse(kind: IdType, input: &str) -> Result<Self, FieldError> {
        Self::parse_on(kind, input, latest_today())
    }

    /// Reads a request's `id_type` (absent: the resident ID) and `id_number`, recording what is
    /// wrong under `{prefix}id_type` or `{prefix}id_number`.
    pub fn check(
        errors: &mut FieldErrors,
        prefix: &str,
        id_type: Option<&str>,
        id_number: &str,
    ) -> Option<Self> {
        let kind = errors.check(format!("{prefix}id_type"), IdType::parse(id_type))?;
        errors.check(format!("{prefix}id_number"), Self::parse(kind, id_number))
    }

    /// The same as [`check`](Self::check), for a request that names one document and nothing else.
    pub fn from_request(id_type: Option<&str>, id_number: &str) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::default();
        let document = Self::check(&mut errors, "", id_type, id_number);
        errors.into_result(document)
    }

    /// Parses, refusing birth dates after `today` where the number carries one.
    pub fn parse_on(kind: IdType, input: &str, today: NaiveDate) -> Result<Self, FieldError> {
        let number = input.trim().to_ascii_uppercase();
        let wrong = |message: &str| Err(FieldError::new(FieldCode::IdNumberInvalid, message));
        let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        match kind {
            IdType::ResidentId => {
                IdNumber::parse_on(&number, today)?;
            }
            IdType::Passport => {
                let ok = (5..=17).contains(&number.len())
                    && number.bytes().all(|b| b.is_ascii_alphanumeric());
                if !ok {
                    return wrong("护照号码应为5至17位字母或数字");
                }
            }
            IdType::HkMacaoPermit => {
                let ok = matches!(number.len(), 9 | 11)
                    && matches!(number.as_bytes()[0], b'H' | b'M')
                    && digits(&number[1..]);
                if !ok {
                    return wrong("港澳居民来往内地通行证号码应为H或M开头，后接8位或10位数字");
                }
            }
            IdType::TaiwanPermit => {
                if !(matches!(number.len(), 8 | 10) && digits(&number)) {
                    return wrong("台湾居民来往大陆通行证号码应为8位或10位数字");
                }
            }
            IdType::ForeignPermanentResident => {
                let bytes = number.as_bytes();
                let shape = bytes.len() == 18
                    && bytes[0] == b'9'
                    && digits(&number[..17])
                    && (bytes[17].is_ascii_digit() || bytes[17] == b'X');
                if !shape {
                    return wrong("外国人永久居留身份证号码应为9开头的18位，最后一位为数字或X");
                }
                let birth = NaiveDate::parse_from_str(&number[6..14], "%Y%m%d")
                    .ok()
                    .filter(|d| *d <= today);
                if birth.is_none() {
                    return Err(FieldError::new(
                        FieldCode::IdNumberBirthDate,
                        "证件号码中的出生日期不正确",
                    ));
                }
                if check_character(&bytes[..17]) != bytes[17] {
                    return Err(FieldError::new(
                        FieldCode::IdNumberCheckCharacter,
                        "证件号码校验位不正确，请核对",
                    ));
                }
            }
        }
        Ok(Self { kind, number })
    }

    /// The resident ID number, for the checks only it passes (the platforms' face verification).
    pub fn resident_id(&self) -> Option<IdNumber> {
        match self.kind {
            IdType::ResidentId => Some(IdNumber::from_checked(self.number.clone())),
            _ => None,
        }
    }

    pub fn kind(&self) -> IdType {
        self.kind
    }

    pub fn number(&self) -> &str {
        &self.number
    }

    /// The administrative division the number begins with, for the resident ID (the holder's
    /// registered home); the other documents name none.
    pub fn division(&self) -> Option<&str> {
        (self.kind == IdType::ResidentId).then(|| &self.number[..6])
    }

    /// The birth date inside the number, for the kinds that carry one (the resident ID and the
    /// foreign permanent-resident ID); the others need it given apart.
    pub fn birth_date(&self) -> Option<NaiveDate> {
        match self.kind {
            IdType::ResidentId | IdType::ForeignPermanentResident => {
                NaiveDate::parse_from_str(&self.number[6..14], "%Y%m%d").ok()
            }
            _ => None,
        }
    }

    /// The holder's birth date: the number's own, or `given` beside a document that carries none.
    /// A `given` date that contradicts the number is refused.
    pub fn holder_birth_date(
        &self,
        given: Option<NaiveDate>,
    ) -> Result<Option<NaiveDate>, FieldError> {
        match (self.birth_date(), given) {
            (Some(inside), Some(given)) if inside != given => Err(FieldError::new(
                FieldCode::BirthDateMismatch,
                "出生日期与证件号码中的出生日期不一致",
            )),
            (inside, given) => Ok(inside.or(given)),
        }
    }

    /// The number as venues and staff see it: the resident ID and the permanent-resident ID as
    /// the resident ID always was (`4310**********0013`), shorter numbers with two characters
    /// kept at each end (`E1*****78`), or one for the shortest.
    pub fn masked(&self) -> String {
        let chars: Vec<char> = self.number.chars().collect();
        let keep = match self.kind {
            IdType::ResidentId | IdType::ForeignPermanentResident => {
                return mask_id_number(&self.number)
            }
            _ if chars.len() <= 6 => 1,
            _ => 2,
        };
        let mut masked: String = chars[..keep].iter().collect();
        masked.extend(std::iter::repeat_n('*', chars.len() - 2 * keep));
        masked.extend(&chars[chars.len() - keep..]);
        masked
    }

    /// What identifies the holder for lookups: the resident ID's number alone (as every record
    /// made before other documents were taken), `kind:number` for the others, so that a passport
    /// number never meets an ID number that happens to read the same.
    pub fn key(&self) -> String {
        lookup_text(self.kind.as_str(), &self.number)
    }
}

/// The text a lookup hashes for a document of the stored `kind` (or `mobile`, for someone known
/// by a mobile number only) and its number: the number alone for a resident ID, `kind:number`
/// otherwise.
pub fn lookup_text(kind: &str, number: &str) -> String {
    if kind == IdType::ResidentId.as_str() {
        number.to_owned()
    } else {
        format!("{kind}:{number}")
    }
}

impl From<IdNumber> for IdDocument {
    fn from(number: IdNumber) -> Self {
        Self {
            kind: IdType::ResidentId,
            number: number.into_inner(),
        }
    }
}

/// The kind stored for someone known by their mobile number only.
pub const MOBILE: &str = "mobile";

/// What a person is known by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PersonKey {
    Document(IdDocument),
    /// Someone registered by hand who had no document with them.
    Mobile(MobileNumber),
}

impl PersonKey {
    /// The text a lookup hashes: [`IdDocument::key`], or `mobile:` and the number.
    pub fn lookup_text(&self) -> String {
        match self {
            PersonKey::Document(document) => document.key(),
            PersonKey::Mobile(mobile) => lookup_text(MOBILE, mobile.as_ref()),
        }
    }

    /// The document, unless the person is known by a mobile number only.
    pub fn document(&self) -> Option<&IdDocument> {
        match self {
            PersonKey::Document(document) => Some(document),
            PersonKey::Mobile(_) => None,
        }
    }

    /// The document's number, or the mobile number.
    pub fn number(&self) -> &str {
        match self {
            PersonKey::Document(document) => document.number(),
            PersonKey::Mobile(mobile) => mobile.as_ref(),
        }
    }
}

/// A birth date as typed (`YYYY-MM-DD`), from 1900 up to today.
pub fn parse_birth_date(input: &str) -> Result<NaiveDate, FieldError> {
    NaiveDate::parse_from_str(input.trim(), "%Y-%m-%d")
        .ok()
        .filter(|d| *d >= NaiveDate::from_ymd_opt(1900, 1, 1).unwrap() && *d <= latest_today())
        .ok_or_else(|| {
            FieldError::new(
                FieldCode::BirthDateInvalid,
                "出生日期应为1900-01-01至今天之间的日期，格式如 2015-06-01",
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 22).unwrap()
    }

    /// A foreign permanent-resident number with the right check character.
    fn fpr(first17: &str) -> String {
        let check = check_character(first17.as_bytes()) as char;
        format!("{first17}{check}")
    }

    #[test]
    fn the_kind_defaults_to_the_resident_id_and_is_named_exactly() {
        assert_eq!(IdType::parse(None).unwrap(), IdType::ResidentId);
        assert_eq!(IdType::parse(Some("passport")).unwrap(), IdType::Passport);
        for padded in ["", " ", " passport", "passport\n", "\u{3000}resident_id"] {
            assert_eq!(
                IdType::parse(Some(padded)).unwrap_err().code,
                FieldCode::IdTypeInvalid,
                "{padded:?}"
            );
        }
        assert_eq!(
            IdType::parse(Some("护照")).unwrap_err().code,
            FieldCode::IdTypeInvalid
        );
    }

    #[test]
    fn each_kind_has_its_own_format() {
        let ok = |kind, number: &str| IdDocument::parse_on(kind, number, day()).unwrap();
        let bad = |kind, number: &str| IdDocument::parse_on(kind, number, day()).unwrap_err().code;
        assert_eq!(ok(IdType::Passport, " e12345678 ").number(), "E12345678");
        assert_eq!(bad(IdType::Passport, "E123"), "id_number_invalid");
        assert_eq!(bad(IdType::Passport, "E1234-5678"), "id_number_invalid");
        ok(IdType::HkMacaoPermit, "H12345678");
        ok(IdType::HkMacaoPermit, "M1234567890");
        assert_eq!(bad(IdType::HkMacaoPermit, "C12345678"), "id_number_invalid");
        ok(IdType::TaiwanPermit, "12345678");
        assert_eq!(bad(IdType::TaiwanPermit, "1234567"), "id_number_invalid");
        let number = fpr("94384019900315001");
        let card = ok(IdType::ForeignPermanentResident, &number);
        assert_eq!(card.birth_date(), NaiveDate::from_ymd_opt(1990, 3, 15));
        let mut wrong_check = number.clone();
        wrong_check.replace_range(17.., if number.ends_with('0') { "1" } else { "0" });
        assert_eq!(
            bad(IdType::ForeignPermanentResident, &wrong_check),
            "id_number_check_character"
        );
        assert_eq!(
            bad(IdType::ForeignPermanentResident, &fpr("94384019901315001")),
            "id_number_birth_date"
        );
        assert_eq!(
            bad(IdType::ForeignPermanentResident, "431025198003150018"),
            "id_number_invalid",
            "a resident ID is not a permanent-resident card"
        );
        assert_eq!(
            bad(IdType::ResidentId, "431025198003150011"),
            "id_number_check_character"
        );
    }

    #[test]
    fn a_birth_date_is_given_only_beside_documents_without_one() {
        let passport = IdDocument::parse_on(IdType::Passport, "E12345678", day()).unwrap();
        let born = NaiveDate::from_ymd_opt(2015, 6, 1);
        assert_eq!(passport.holder_birth_date(None).unwrap(), None);
        assert_eq!(passport.holder_birth_date(born).unwrap(), born);
        let card = IdDocument::parse_on(IdType::ResidentId, "431025198003150018", day()).unwrap();
        assert_eq!(card.division(), Some("431025"));
        assert_eq!(passport.division(), None);
        let inside = NaiveDate::from_ymd_opt(1980, 3, 15);
        assert_eq!(card.holder_birth_date(None).unwrap(), inside);
        assert_eq!(card.holder_birth_date(inside).unwrap(), inside);
        assert_eq!(
            card.holder_birth_date(born).unwrap_err().code,
            "birth_date_mismatch"
        );
        assert_eq!(parse_birth_date("2015-06-01").ok(), born);
        assert_eq!(
            parse_birth_date("1899-12-31").unwrap_err().code,
            "birth_date_invalid"
        );
        assert_eq!(
            parse_birth_date("2015/06/01").unwrap_err().code,
            "birth_date_invalid"
        );
    }

    #[test]
    fn documents_without_a_birth_date_say_so_and_mask_their_middle() {
        let passport = IdDocument::parse_on(IdType::Passport, "E12345678", day()).unwrap();
        assert_eq!(passport.birth_date(), None);
        assert_eq!(passport.masked(), "E1*****78");
        let short = IdDocument::parse_on(IdType::Passport, "AB123", day()).unwrap();
        assert_eq!(short.masked(), "A***3");
        let id = IdDocument::parse_on(IdType::ResidentId, "431025198003150018", day()).unwrap();
        assert_eq!(id.masked(), "4310**********0018");
        assert_eq!(id.key(), "431025198003150018");
        assert_eq!(passport.key(), "passport:E12345678");
    }
}
