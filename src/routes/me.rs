//! The resident's own account and the three-element consent of the seeds.

use actix_web::{web, HttpResponse};
use serde::Deserialize;

use super::State;
use crate::auth::Account;
use crate::domain::{FieldCode, FieldError, FieldErrors, IdDocument, PersonName};
use crate::platforms::{PhoneProof, PlatformProfile};
use crate::services::accounts::{self, ConsentOffer, MeView};
use crate::services::personal_data;
use crate::web::{ApiError, Json};

/// Longest `my.getPhoneNumber` answer accepted (it is a few hundred bytes).
const MAX_PHONE_PROOF_LEN: usize = 4096;

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
    id_type: Option<String>,
    id_number: String,
}

/// Everything that can be checked here is checked before any platform is called.
impl TryFrom<ConsentRequest> for ConsentOffer {
    type Error = FieldErrors;

    fn try_from(request: ConsentRequest) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::default();
        if request.profile.is_none() && request.phone.is_none() && request.identity.is_none() {
            errors.add(
                "body",
                FieldError::new(
                    FieldCode::Required,
                    "请至少授权一项：profile、phone 或 identity",
                ),
            );
        }
        let profile = request.profile.map(|offer| profile(&mut errors, offer));
        let phone = request
            .phone
            .and_then(|offer| errors.check("phone", phone_proof(offer)));
        let identity = request.identity.and_then(|offer| {
            let document = IdDocument::check(
                &mut errors,
                "identity.",
                offer.id_type.as_deref(),
                &offer.id_number,
            );
            let name = errors.check("identity.name", PersonName::parse(&offer.name));
            document.zip(name)
        });
        errors.finish()?;
        Ok(ConsentOffer {
            profile,
            phone,
            identity,
        })
    }
}

pub async fn get(account: Account, state: State) -> Result<web::Json<MeView>, ApiError> {
    Ok(web::Json(accounts::get_me(&state, &account).await?))
}

pub async fn grant(
    account: Account,
    body: Json<ConsentRequest>,
    state: State,
) -> Result<web::Json<MeView>, ApiError> {
    let offer = ConsentOffer::try_from(body.0)?;
    Ok(web::Json(
        accounts::grant_consent(&state, &account, offer).await?,
    ))
}

pub async fn withdraw(account: Account, state: State) -> Result<HttpResponse, ApiError> {
    accounts::withdraw_consent(&state, &account).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// A copy of everything held about the account; never kept by a cache on the way.
pub async fn data(account: Account, state: State) -> Result<HttpResponse, ApiError> {
    let data = personal_data::export(&state, &account).await?;
    Ok(HttpResponse::Ok()
        .insert_header(("cache-control", "no-store"))
        .json(data))
}

/// Cancels the account (注销).
pub async fn cancel(account: Account, state: State) -> Result<HttpResponse, ApiError> {
    personal_data::cancel(&state, &account).await?;
    Ok(HttpResponse::NoContent().finish())
}

fn profile(errors: &mut FieldErrors, offer: ProfileOffer) -> PlatformProfile {
    let mut bounded = |field: &str, value: Option<String>, max: usize| {
        let value = value
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())?;
        if value.chars().count() > max || value.chars().any(crate::domain::is_hidden) {
            errors.add(
                format!("profile.{field}"),
                FieldError::new(
                    FieldCode::TooLong,
                    format!("最多{max}个字，且不能含控制字符"),
                ),
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
        errors.add(
            "profile.avatar_url",
            FieldError::new(FieldCode::UrlInvalid, "头像地址应以 https:// 开头"),
        );
    }
    if gender
        .as_deref()
        .is_some_and(|g| !["male", "female", "unknown"].contains(&g))
    {
        errors.add(
            "profile.gender",
            FieldError::new(
                FieldCode::GenderInvalid,
                "性别只能是 male、female 或 unknown",
            ),
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
                FieldCode::PhoneProofRequired,
                "请提供 wechat_code 或 alipay_response 之一",
            ))
        }
    };
    let (PhoneProof::WechatCode(text) | PhoneProof::AlipayResponse(text)) = &proof;
    if text.is_empty() || text.len() > MAX_PHONE_PROOF_LEN {
        return Err(FieldError::new(
            FieldCode::PhoneProofInvalid,
            "手机号授权凭证格式不正确",
        ));
    }
    Ok(proof)
}
