//! Tables shared by both backends. Kept by hand: only types common to SQLite and PostgreSQL.

diesel::table! {
    regions (code) {
        code -> Text,
        name -> Text,
        level -> SmallInt,
        parent_code -> Nullable<Text>,
    }
}

diesel::table! {
    reference_data (name) {
        name -> Text,
        checksum -> Text,
        row_count -> BigInt,
        loaded_at -> Timestamp,
    }
}

diesel::table! {
    staff_accounts (id) {
        id -> BigInt,
        username -> Text,
        password_hash -> Text,
        role -> Text,
        region_code -> Text,
        created_at -> Timestamp,
        disabled_at -> Nullable<Timestamp>,
    }
}
