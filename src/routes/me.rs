//! The resident's own account and the three-element consent of the seeds: (a) nickname, avatar,
//! gender and region, (b) mobile number, (c) real name and ID number. Granted once, withdrawable.

use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};

use crate::auth::Resident;
use crate::db::accounts::{self, AccountRow, Consent, ConsentError, ConsentGrant};
use crate::db::persons;
use crate::domain::{FieldError, IdNumber, MobileNumber, PersonName};
use crate::error::{ApiError, ErrorCode, Invalid};
use crate::extract::Json;
use crate::platforms::{PhoneProof, PlatformProfile};
use crate::state::State;

#[derive(Debug, Serialize)]
pub struct MeResponse {
    id: i64,
    platform: &'static str,
    consent: Consent,
    /// Masked: `张*`, `1101**********002X`.
    identity: Option<MaskedIdentity>,
    /// Masked: `138****5678`.
    phone: Option<String>,
    profile: Option<PlatformProfile>,
}

#[derive(Debug, Serialize)]
struct MaskedIdentity {
    name: String,
    id_number: String,
}

/// The account as its owner sees it, personal data masked.
pub async fn load_me(state: &State, account_id: i64) -> Result<MeResponse, ApiError> {
    let reader = state.clone();
    state
        .db
        .run(move |conn| -> Result<MeResponse, ApiError> {
            let cipher = &reader.cipher;
            let account = accounts::find(conn, account_id)?.ok_or_else(account_gone)?;
            let person = match account.person_id {
                Some(id) => persons::find(conn, id)?
                    .map(|row| row.open(cipher))
                    .transpose()?,
                None => None,
            };
            Ok(MeResponse {
                id: account.id,
                platform: account.platform().as_str(),
                consent: account.consent(),
                identity: person.map(|p| MaskedIdentity {
                    name: p.name.masked(),
                    id_number: p.id_number.masked(),
                }),
                phone: account.phone(cipher)?.map(|p| p.masked()),
                profile: account.profile(cipher)?,
            })
        })
        .await
}

/// A token for an account that no longer exists is as good as no token.
fn account_gone() -> ApiError {
    ApiError::new(ErrorCode::Unauthorized).with_message("账号不存在，请重新登录")
}

pub async fn get(resident: Resident, state: State) -> Result<web::Json<MeResponse>, ApiError> {
    Ok(web::Json(load_me(&state, resident.account_id).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsentRequest {
    profile: Option<ProfileOffer>,
    phone: Option<PhoneOffer>,
    identity: Option<IdentityOffer>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfileOffer {
    nickname: Option<String>,
    avatar_url: Option<String>,
    gender: Option<String>,
    province: Option<String>,
    city: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PhoneOffer {
    wechat_code: Option<String>,
    alipay_response: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IdentityOffer {
    name: String,
    id_number: String,
}

/// Longest `my.getPhoneNumber` answer accepted (it is a few hundred bytes).
const MAX_PHONE_PROOF_LEN: usize = 4096;

pub async fn grant(
    resident: Resident,
    body: Json<ConsentRequest>,
    state: State,
) -> Result<web::Json<MeResponse>, ApiError> {
    let request = body.0;
    // Everything that can be checked here is checked before any platform is called.
    let mut invalid = Invalid::default();
    if request.profile.is_none() && request.phone.is_none() && request.identity.is_none() {
        invalid.add(
            "body",
            FieldError::new("required", "请至少授权一项：profile、phone 或 identity"),
        );
    }
    let offered_profile = request
        .profile
        .map(|offer| check_profile(&mut invalid, offer));
    let phone_proof = request
        .phone
        .and_then(|offer| invalid.check("phone", phone_proof(offer)));
    let identity = request.identity.and_then(|offer| {
        let id_number = invalid.check("identity.id_number", IdNumber::parse(&offer.id_number));
        let name = invalid.check("identity.name", PersonName::parse(&offer.name));
        id_number.zip(name)
    });
    invalid.finish()?;

    let account_id = resident.account_id;
    let account: AccountRow = state
        .db
        .run(move |conn| -> Result<_, ApiError> {
            accounts::find(conn, account_id)?.ok_or_else(account_gone)
        })
        .await?;
    let provider = state
        .providers
        .for_account(account.platform(), &account.subject)?;

    let phone = match &phone_proof {
        Some(proof) => {
            let number = provider.phone_number(proof).await?;
            Some(MobileNumber::parse(&number).map_err(|_| {
                ApiError::invalid_field(
                    "phone",
                    FieldError::new("mobile_unsupported", "仅支持中国大陆手机号码"),
                )
            })?)
        }
        None => None,
    };
    let profile = match offered_profile {
        Some(offered) => {
            let token = account.platform_token(&state.cipher);
            Some(provider.profile(token.as_deref(), Some(offered)).await?)
        }
        None => None,
    };

    let grant = ConsentGrant {
        profile,
        phone,
        identity,
    };
    let writer = state.clone();
    state
        .db
        .run(move |conn| accounts::grant(conn, &writer.cipher, account_id, &grant))
        .await
        .map_err(|e| match e {
            ConsentError::IdentityAlreadyBound => ApiError::new(ErrorCode::IdentityAlreadyBound),
            ConsentError::IdentityMismatch => ApiError::new(ErrorCode::IdentityMismatch),
            ConsentError::Db(e) => e.into(),
        })?;
    Ok(web::Json(load_me(&state, account_id).await?))
}

pub async fn withdraw(resident: Resident, state: State) -> Result<HttpResponse, ApiError> {
    let account_id = resident.account_id;
    state
        .db
        .run(move |conn| accounts::withdraw(conn, account_id))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

fn check_profile(invalid: &mut Invalid, offer: ProfileOffer) -> PlatformProfile {
    let mut bounded = |field: &str, value: Option<String>, max: usize| {
        let value = value
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())?;
        if value.chars().count() > max || value.chars().any(char::is_control) {
            invalid.add(
                format!("profile.{field}"),
                FieldError::new("too_long", format!("最多{max}个字，且不能含控制字符")),
            );
            return None;
        }
        Some(value)
    };
    let nickname = bounded("nickname", offer.nickname, 64);
    let avatar_url = bounded("avatar_url", offer.avatar_url, 512);
    let gender = bounded("gender", offer.gender, 16);
    let province = bounded("province", offer.province, 32);
    let city = bounded("city", offer.city, 32);
    if avatar_url
        .as_deref()
        .is_some_and(|url| !url.starts_with("https://") && !url.starts_with("http://"))
    {
        invalid.add(
            "profile.avatar_url",
            FieldError::new("url_invalid", "头像地址应以 https:// 开头"),
        );
    }
    if gender
        .as_deref()
        .is_some_and(|g| !["male", "female", "unknown"].contains(&g))
    {
        invalid.add(
            "profile.gender",
            FieldError::new("gender_invalid", "性别只能是 male、female 或 unknown"),
        );
    }
    PlatformProfile {
        nickname,
        avatar_url,
        gender,
        province,
        city,
    }
}

fn phone_proof(offer: PhoneOffer) -> Result<PhoneProof, FieldError> {
    let proof = match (offer.wechat_code, offer.alipay_response) {
        (Some(code), None) => PhoneProof::WechatCode(code.trim().to_owned()),
        (None, Some(response)) => PhoneProof::AlipayResponse(response.trim().to_owned()),
        _ => {
            return Err(FieldError::new(
                "phone_proof_required",
                "请提供 wechat_code 或 alipay_response 之一",
            ))
        }
    };
    let (PhoneProof::WechatCode(text) | PhoneProof::AlipayResponse(text)) = &proof;
    if text.is_empty() || text.len() > MAX_PHONE_PROOF_LEN {
        return Err(FieldError::new(
            "phone_proof_invalid",
            "手机号授权凭证格式不正确",
        ));
    }
    Ok(proof)
}
