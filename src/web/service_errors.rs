//! How each service's errors answer over HTTP: one `From` per service error, nothing else.

use serde_json::json;

use super::error::{ApiError, ErrorCode};
use crate::domain::scan::Refusal;
use crate::domain::{FieldCode, FieldError, FieldErrors};
use crate::platforms::PlatformError;
use crate::services::accounts::AccountError;
use crate::services::alerts::AlertError;
use crate::services::audit::AuditError;
use crate::services::check_ins::CheckInError;
use crate::services::companions::CompanionError;
use crate::services::follow_ups::FollowUpError;
use crate::services::health_codes::HealthCodeError;
use crate::services::identity::{IdentityError, ReleaseError};
use crate::services::paper_codes::PaperCodeFailure;
use crate::services::personal_data::PersonalDataError;
use crate::services::regions::RegionError;
use crate::services::reviews::ReviewError;
use crate::services::risk_windows::RiskWindowError;
use crate::services::scan::ScanError;
use crate::services::staff::StaffError;
use crate::services::traces::TraceError;
use crate::services::venue_staff::VenueStaffError;
use crate::services::venues::VenueError;
use crate::services::visitors::VisitorsError;

impl From<PlatformError> for ApiError {
    fn from(e: PlatformError) -> Self {
        match e {
            PlatformError::CodeInvalid(reason) => {
                tracing::debug!(%reason, "platform code refused");
                ApiError::new(ErrorCode::PlatformCodeInvalid)
            }
            PlatformError::RateLimited => {
                ApiError::new(ErrorCode::TooManyRequests).with_retry_after(60)
            }
            PlatformError::UserBlocked => ApiError::new(ErrorCode::PlatformUserBlocked),
            PlatformError::Unavailable(reason) => ApiError::new(ErrorCode::PlatformUnavailable)
                .with_retry_after(5)
                .with_cause(reason),
            PlatformError::NotConfigured => ApiError::new(ErrorCode::PlatformNotConfigured),
            PlatformError::WrongProof => FieldErrors::one(
                "phone",
                FieldError::new(
                    FieldCode::PhoneProofPlatform,
                    "手机号授权凭证与登录平台不一致",
                ),
            )
            .into(),
        }
    }
}

impl From<AccountError> for ApiError {
    fn from(e: AccountError) -> Self {
        match e {
            AccountError::Gone => {
                ApiError::new(ErrorCode::Unauthorized).with_message("账号不存在，请重新登录")
            }
            AccountError::ConsentRequired(missing) => ApiError::new(ErrorCode::ConsentRequired)
                .with_details(json!({ "missing": missing })),
            AccountError::IdentityAlreadyBound {
                verification_required,
            } => ApiError::new(ErrorCode::IdentityAlreadyBound)
                .with_details(json!({ "verification_required": verification_required })),
            AccountError::IdentityMismatch => ApiError::new(ErrorCode::IdentityMismatch),
            AccountError::DevLoginsOff => ApiError::not_found().with_message("请求的接口不存在"),
            AccountError::Platform(e) => e.into(),
            AccountError::Invalid(e) => e.into(),
            AccountError::Db(e) => e.into(),
        }
    }
}

impl From<StaffError> for ApiError {
    fn from(e: StaffError) -> Self {
        match e {
            StaffError::Locked { retry_after_secs } => ApiError::new(ErrorCode::TooManyRequests)
                .with_message("登录失败次数过多，请稍后再试")
                .with_retry_after(retry_after_secs),
            StaffError::InvalidCredentials => ApiError::new(ErrorCode::InvalidCredentials),
            StaffError::SessionEnded => ApiError::new(ErrorCode::Unauthorized)
                .with_message("账号已停用或权限已变更，请重新登录"),
            StaffError::UnknownUsername(_)
            | StaffError::UsernameTaken(_)
            | StaffError::OutsideRegion
            | StaffError::InvalidUsername
            | StaffError::UnknownRegion(_)
            | StaffError::Password(_) => ApiError::internal(e),
            StaffError::Db(e) => e.into(),
        }
    }
}

impl From<FollowUpError> for ApiError {
    fn from(e: FollowUpError) -> Self {
        match e {
            FollowUpError::NotFound => ApiError::not_found(),
            FollowUpError::Closed => ApiError::new(ErrorCode::FollowUpClosed),
            FollowUpError::Db(e) => e.into(),
        }
    }
}

impl From<VisitorsError> for ApiError {
    fn from(e: VisitorsError) -> Self {
        match e {
            VisitorsError::VenueNotFound => ApiError::not_found(),
            VisitorsError::StaleCursor => {
                ApiError::invalid_query(crate::services::visitors::stale_cursor())
            }
            VisitorsError::Invalid(e) => e.into(),
            VisitorsError::Db(e) => e.into(),
        }
    }
}

impl From<VenueError> for ApiError {
    fn from(e: VenueError) -> Self {
        match e {
            VenueError::NotFound => ApiError::not_found(),
            VenueError::ManagerOnly => ApiError::forbidden("只有场所管理员可以进行此操作"),
            VenueError::Locked => ApiError::new(ErrorCode::VenueLocked),
            VenueError::EntranceNameTaken(name) => {
                ApiError::new(ErrorCode::EntranceNameTaken).with_details(json!({ "name": name }))
            }
            VenueError::NotActive => ApiError::new(ErrorCode::VenueNotActive),
            VenueError::EntranceClosed => ApiError::new(ErrorCode::EntranceClosed),
            VenueError::Suspended => ApiError::new(ErrorCode::VenueSuspended),
            VenueError::ForStaffOfVenues => ApiError::new(ErrorCode::Forbidden),
            VenueError::NotSuspended => ApiError::new(ErrorCode::VenueNotSuspended),
            VenueError::Invalid(e) => e.into(),
            VenueError::Render(e) => ApiError::internal(e),
            VenueError::Db(e) => e.into(),
        }
    }
}

impl From<VenueStaffError> for ApiError {
    fn from(e: VenueStaffError) -> Self {
        match e {
            VenueStaffError::Venue(e) => e.into(),
            VenueStaffError::Account(e) => e.into(),
            VenueStaffError::InvitationInvalid => ApiError::new(ErrorCode::InvitationInvalid),
            VenueStaffError::NotStaff => ApiError::not_found(),
            VenueStaffError::Db(e) => e.into(),
        }
    }
}

impl From<ReviewError> for ApiError {
    fn from(e: ReviewError) -> Self {
        match e {
            ReviewError::NotPending => ApiError::new(ErrorCode::VenueNotPending),
            ReviewError::Venue(e) => e.into(),
            ReviewError::Db(e) => e.into(),
        }
    }
}

impl From<CompanionError> for ApiError {
    fn from(e: CompanionError) -> Self {
        match e {
            CompanionError::NotEligible(rule) => {
                ApiError::new(ErrorCode::CompanionNotEligible).with_message(rule.requirement())
            }
            CompanionError::TooMany => ApiError::new(ErrorCode::TooManyCompanions),
            CompanionError::OwnAccount => ApiError::new(ErrorCode::CompanionHasAccount),
            CompanionError::AlreadyAdded => ApiError::new(ErrorCode::CompanionExists),
            CompanionError::IsSelf => FieldErrors::one(
                "id_number",
                FieldError::new(FieldCode::CompanionIsSelf, "不能把自己添加为同行人员"),
            )
            .into(),
            CompanionError::BirthDateMismatch => FieldErrors::one(
                "birth_date",
                FieldError::new(
                    FieldCode::BirthDateMismatch,
                    "出生日期与该证件已登记的出生日期不一致，请核对",
                ),
            )
            .into(),
            CompanionError::NotFound => ApiError::new(ErrorCode::CompanionNotFound),
            CompanionError::RequestNotFound => ApiError::new(ErrorCode::CompanionRequestNotFound),
            CompanionError::NotAccepted => ApiError::new(ErrorCode::CompanionNotAccepted),
            CompanionError::Account(e) => e.into(),
            CompanionError::Db(e) => e.into(),
        }
    }
}

impl From<ScanError> for ApiError {
    fn from(e: ScanError) -> Self {
        match e {
            ScanError::InvalidCode => ApiError::new(ErrorCode::InvalidVenueCode),
            ScanError::Refused(refusal) => refusal.into(),
            ScanError::TooManyScans { retry_after_secs } => {
                ApiError::new(ErrorCode::TooManyRequests)
                    .with_message("扫码过于频繁，请稍后再试")
                    .with_retry_after(retry_after_secs)
            }
            ScanError::TooManyDoorCheckIns { retry_after_secs } => {
                ApiError::new(ErrorCode::TooManyRequests)
                    .with_message("本账号登记过于频繁，请稍后再试")
                    .with_retry_after(retry_after_secs)
            }
            ScanError::InvalidPaperCode => ApiError::new(ErrorCode::InvalidPaperCode),
            ScanError::PaperCodeExpired => ApiError::new(ErrorCode::PaperCodeExpired),
            ScanError::PaperCodeRevoked => ApiError::new(ErrorCode::PaperCodeRevoked),
            ScanError::Account(e) => e.into(),
            ScanError::Venue(e) => e.into(),
            ScanError::Invalid(e) => e.into(),
            ScanError::Db(e) => e.into(),
        }
    }
}

impl From<Refusal> for ApiError {
    fn from(e: Refusal) -> Self {
        match e {
            Refusal::Revoked => ApiError::new(ErrorCode::VenueCodeRevoked),
            Refusal::NotActive => ApiError::new(ErrorCode::VenueNotActive),
            Refusal::EntranceClosed => ApiError::new(ErrorCode::EntranceClosed),
            Refusal::Suspended => ApiError::new(ErrorCode::VenueSuspended),
            Refusal::LocationRequired => ApiError::new(ErrorCode::LocationRequired),
            Refusal::TooFar {
                distance_m,
                max_distance_m,
            } => ApiError::new(ErrorCode::TooFarFromVenue).with_details(json!({
                "distance_m": distance_m,
                "max_distance_m": max_distance_m
            })),
            Refusal::CompanionNotFound(id) => ApiError::new(ErrorCode::CompanionNotFound)
                .with_details(json!({ "companion_id": id })),
            Refusal::CompanionNotAccepted(id) => ApiError::new(ErrorCode::CompanionNotAccepted)
                .with_details(json!({ "companion_id": id })),
            Refusal::CompanionNotEligible(id, rule) => {
                ApiError::new(ErrorCode::CompanionNotEligible)
                    .with_message(rule.requirement())
                    .with_details(json!({ "companion_id": id }))
            }
        }
    }
}

impl From<CheckInError> for ApiError {
    fn from(e: CheckInError) -> Self {
        match e {
            CheckInError::NotFound => ApiError::not_found(),
            CheckInError::AccountGone => AccountError::Gone.into(),
            CheckInError::Db(e) => e.into(),
        }
    }
}

impl From<PaperCodeFailure> for ApiError {
    fn from(e: PaperCodeFailure) -> Self {
        match e {
            PaperCodeFailure::Companion(e) => e.into(),
            PaperCodeFailure::Render(e) => ApiError::internal(e),
        }
    }
}

impl From<HealthCodeError> for ApiError {
    fn from(e: HealthCodeError) -> Self {
        match e {
            HealthCodeError::NotFound | HealthCodeError::ImportNotFound => ApiError::not_found(),
            HealthCodeError::OutsideRegion { fields } => {
                ApiError::new(ErrorCode::OutsideRegion).with_details(json!({ "fields": fields }))
            }
            HealthCodeError::SecondOfficialRequired => {
                ApiError::new(ErrorCode::SecondOfficialRequired)
            }
            HealthCodeError::ImportNotPending => ApiError::new(ErrorCode::ChangeNotPending),
            HealthCodeError::Invalid(e) => e.into(),
            HealthCodeError::Db(e) => e.into(),
        }
    }
}

impl From<TraceError> for ApiError {
    fn from(e: TraceError) -> Self {
        match e {
            TraceError::CaseUnknown => ApiError::not_found().with_message("没有该人员的扫码记录"),
            TraceError::NotFound => ApiError::not_found(),
            TraceError::SecondOfficialRequired => ApiError::new(ErrorCode::SecondOfficialRequired),
            TraceError::ChangeNotPending => ApiError::new(ErrorCode::ChangeNotPending),
            TraceError::Db(e) => e.into(),
        }
    }
}

impl From<IdentityError> for ApiError {
    fn from(e: IdentityError) -> Self {
        match e {
            IdentityError::NotFound => ApiError::not_found(),
            IdentityError::TooManyChecks { retry_after_secs } => {
                ApiError::new(ErrorCode::TooManyRequests)
                    .with_message("今日人脸核验次数已达上限，请明天再试")
                    .with_retry_after(retry_after_secs)
            }
            IdentityError::Failed(reason) => {
                tracing::info!(%reason, "face check not verified");
                ApiError::new(ErrorCode::VerificationFailed)
            }
            IdentityError::Account(e) => e.into(),
            IdentityError::Db(e) => e.into(),
        }
    }
}

impl From<ReleaseError> for ApiError {
    fn from(e: ReleaseError) -> Self {
        match e {
            ReleaseError::NotFound => ApiError::not_found(),
            ReleaseError::Db(e) => e.into(),
        }
    }
}

impl From<RiskWindowError> for ApiError {
    fn from(e: RiskWindowError) -> Self {
        match e {
            RiskWindowError::VenueNotFound => ApiError::not_found(),
            RiskWindowError::Db(e) => e.into(),
        }
    }
}

impl From<AlertError> for ApiError {
    fn from(e: AlertError) -> Self {
        match e {
            AlertError::NotFound => ApiError::not_found(),
            AlertError::Db(e) => e.into(),
        }
    }
}

impl From<AuditError> for ApiError {
    fn from(e: AuditError) -> Self {
        match e {
            AuditError::Db(e) => e.into(),
        }
    }
}

impl From<RegionError> for ApiError {
    fn from(e: RegionError) -> Self {
        match e {
            RegionError::NotFound => ApiError::not_found().with_message("该行政区划不存在"),
            RegionError::Db(e) => e.into(),
        }
    }
}

impl From<PersonalDataError> for ApiError {
    fn from(e: PersonalDataError) -> Self {
        match e {
            PersonalDataError::LoginTooOld => ApiError::new(ErrorCode::LoginTooOld),
            PersonalDataError::Account(e) => e.into(),
            PersonalDataError::Db(e) => e.into(),
        }
    }
}
