//! The domain's named enums as typed columns: stored as their snake_case name in a TEXT column
//! (each guarded by a CHECK constraint in the migrations), read back into the enum, so no query
//! or row ever compares a colour or a status as a string.

use diesel::backend::Backend;
use diesel::deserialize::{self, FromSql, FromSqlRow};
use diesel::expression::AsExpression;
use diesel::serialize::{self, Output, ToSql};
use diesel::sql_types::Text;

use crate::domain::{
    AlertKind, AlertStatus, ChangeStatus, CheckInRole, CheckInSource, Delivery, FollowUpCause,
    FollowUpStatus, HealthColor, HealthReason, NotificationKind, Platform, StaffRole, TestResult,
    VenueStatus, Verdict, VerificationStatus,
};

macro_rules! text_columns {
    ($($proxy:ident => $ty:ident,)*) => {$(
        #[derive(AsExpression, FromSqlRow)]
        #[diesel(foreign_derive)]
        #[diesel(sql_type = Text)]
        #[allow(dead_code)]
        struct $proxy($ty);

        impl<DB> ToSql<Text, DB> for $ty
        where
            DB: Backend,
            str: ToSql<Text, DB>,
        {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, DB>) -> serialize::Result {
                self.as_str().to_sql(out)
            }
        }

        impl<DB> FromSql<Text, DB> for $ty
        where
            DB: Backend,
            String: FromSql<Text, DB>,
        {
            fn from_sql(bytes: DB::RawValue<'_>) -> deserialize::Result<Self> {
                let name = String::from_sql(bytes)?;
                $ty::from_name(&name)
                    .ok_or_else(|| format!("stored {} `{name}` is unknown", stringify!($ty)).into())
            }
        }
    )*};
}

text_columns! {
    AlertKindColumn => AlertKind,
    AlertStatusColumn => AlertStatus,
    FollowUpCauseColumn => FollowUpCause,
    FollowUpStatusColumn => FollowUpStatus,
    NotificationKindColumn => NotificationKind,
    DeliveryColumn => Delivery,
    VerificationStatusColumn => VerificationStatus,
    ChangeStatusColumn => ChangeStatus,
    CheckInRoleColumn => CheckInRole,
    CheckInSourceColumn => CheckInSource,
    HealthColorColumn => HealthColor,
    HealthReasonColumn => HealthReason,
    PlatformColumn => Platform,
    StaffRoleColumn => StaffRole,
    VenueStatusColumn => VenueStatus,
    VerdictColumn => Verdict,
    TestResultColumn => TestResult,
}
