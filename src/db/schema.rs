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
        session_version -> Integer,
    }
}

diesel::table! {
    persons (id) {
        id -> BigInt,
        id_number_hash -> Text,
        id_number_sealed -> Text,
        name_sealed -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        phone_sealed -> Nullable<Text>,
        phone_hash -> Nullable<Text>,
        name_verified_at -> Nullable<Timestamp>,
        id_type -> Text,
        birth_date -> Nullable<Date>,
        region_code -> Nullable<Text>,
    }
}

diesel::table! {
    accounts (id) {
        id -> BigInt,
        platform -> Text,
        subject -> Text,
        platform_user_id -> Nullable<Text>,
        person_id -> Nullable<BigInt>,
        profile_sealed -> Nullable<Text>,
        phone_sealed -> Nullable<Text>,
        phone_hash -> Nullable<Text>,
        platform_token_sealed -> Nullable<Text>,
        platform_token_expires_at -> Nullable<Timestamp>,
        consent_profile_at -> Nullable<Timestamp>,
        consent_phone_at -> Nullable<Timestamp>,
        consent_identity_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        last_login_at -> Timestamp,
        declared_name_sealed -> Nullable<Text>,
        identity_verified_at -> Nullable<Timestamp>,
        deleted_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    consent_events (id) {
        id -> BigInt,
        account_id -> BigInt,
        element -> Text,
        granted -> Bool,
        at -> Timestamp,
    }
}

diesel::table! {
    staff_sessions (id) {
        id -> Text,
        staff_id -> BigInt,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        ended_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    login_throttles (key_hash) {
        key_hash -> Text,
        failures -> Integer,
        window_started_at -> Timestamp,
        locked_until -> Nullable<Timestamp>,
    }
}

diesel::table! {
    identity_verifications (id) {
        id -> Text,
        account_id -> BigInt,
        platform -> Text,
        provider_id -> Text,
        id_number_hash -> Text,
        id_number_sealed -> Text,
        name_sealed -> Text,
        status -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        completed_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    used_phone_proofs (proof_hash) {
        proof_hash -> Text,
        account_id -> BigInt,
        used_at -> Timestamp,
    }
}

diesel::table! {
    paper_codes (id) {
        id -> BigInt,
        person_id -> BigInt,
        account_id -> BigInt,
        issued_on -> Date,
        created_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    health_code_imports (id) {
        id -> BigInt,
        requested_by -> BigInt,
        region_code -> Text,
        row_count -> BigInt,
        changes_sealed -> Text,
        status -> Text,
        requested_at -> Timestamp,
        confirmed_by -> Nullable<BigInt>,
        applied_at -> Nullable<Timestamp>,
    }
}

diesel::joinable!(accounts -> persons (person_id));

diesel::table! {
    venues (id) {
        id -> BigInt,
        manager_account_id -> Nullable<BigInt>,
        manager_name_sealed -> Text,
        manager_id_number_sealed -> Text,
        manager_id_number_hash -> Text,
        manager_phone_sealed -> Text,
        manager_phone_hash -> Text,
        name -> Text,
        category -> Text,
        subtype -> Text,
        region_code -> Text,
        address -> Text,
        lat -> Double,
        lng -> Double,
        transport_line -> Nullable<Text>,
        plate_number -> Nullable<Text>,
        status -> Text,
        rejection_reason -> Nullable<Text>,
        reviewed_by -> Nullable<BigInt>,
        reviewed_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        suspended_at -> Nullable<Timestamp>,
        suspension_reason -> Nullable<Text>,
        credit_code -> Nullable<Text>,
        test_required_hours -> Nullable<Integer>,
        manager_id_type -> Text,
        unfinished_import -> Nullable<BigInt>,
    }
}

diesel::table! {
    test_results (id) {
        id -> BigInt,
        person_id -> BigInt,
        result -> Text,
        sampled_at -> Timestamp,
        recorded_by -> BigInt,
        recorded_at -> Timestamp,
    }
}

diesel::table! {
    vaccinations (person_id) {
        person_id -> BigInt,
        doses -> SmallInt,
        last_dose_on -> Nullable<Date>,
        recorded_by -> BigInt,
        recorded_at -> Timestamp,
    }
}

diesel::table! {
    entrances (id) {
        id -> BigInt,
        venue_id -> BigInt,
        name -> Text,
        description -> Text,
        code_version -> Integer,
        closed_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        code_key_id -> Nullable<Text>,
    }
}

diesel::table! {
    venue_staff (id) {
        id -> BigInt,
        venue_id -> BigInt,
        account_id -> BigInt,
        created_at -> Timestamp,
    }
}

diesel::table! {
    venue_staff_invitations (id) {
        id -> BigInt,
        venue_id -> BigInt,
        code_hash -> Text,
        expires_at -> Timestamp,
        redeemed_by -> Nullable<BigInt>,
        redeemed_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    audit_log (id) {
        id -> BigInt,
        seq -> BigInt,
        at -> Timestamp,
        actor -> Text,
        role -> Text,
        action -> Text,
        subject_hash -> Text,
        count -> BigInt,
        prev_hash -> Text,
        hash -> Text,
        region_code -> Text,
        key_id -> Text,
        rekeyed_hash -> Nullable<Text>,
    }
}

diesel::table! {
    audit_head (id) {
        id -> Integer,
        seq -> BigInt,
        hash -> Text,
    }
}

diesel::table! {
    health_codes (person_id) {
        person_id -> BigInt,
        color -> Text,
        reason_code -> Text,
        updated_at -> Timestamp,
        updated_by -> Nullable<BigInt>,
    }
}

diesel::table! {
    health_code_changes (id) {
        id -> BigInt,
        person_id -> BigInt,
        color -> Text,
        reason_code -> Text,
        note_sealed -> Nullable<Text>,
        changed_by -> Nullable<BigInt>,
        changed_at -> Timestamp,
    }
}

diesel::table! {
    companions (id) {
        id -> BigInt,
        account_id -> BigInt,
        person_id -> BigInt,
        relation -> Text,
        created_at -> Timestamp,
        name_sealed -> Nullable<Text>,
        birth_date -> Nullable<Date>,
        accepted_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    check_ins (id) {
        id -> BigInt,
        venue_id -> BigInt,
        entrance_id -> BigInt,
        person_id -> BigInt,
        account_id -> Nullable<BigInt>,
        group_id -> Nullable<BigInt>,
        role -> Text,
        source -> Text,
        health_color -> Text,
        verdict -> Text,
        scanned_at -> Timestamp,
        recorded_at -> Timestamp,
        ends_at -> Timestamp,
        left_at -> Nullable<Timestamp>,
        offline -> Bool,
        located -> Bool,
        distance_m -> Nullable<Integer>,
        typed_name_sealed -> Nullable<Text>,
        typed_phone_sealed -> Nullable<Text>,
        paper_code_id -> Nullable<BigInt>,
        temperature_dc -> Nullable<SmallInt>,
    }
}

diesel::table! {
    alerts (id) {
        id -> BigInt,
        kind -> Text,
        venue_id -> BigInt,
        region_code -> Text,
        check_in_id -> Nullable<BigInt>,
        person_id -> Nullable<BigInt>,
        trace_id -> Nullable<BigInt>,
        from_region_code -> Nullable<Text>,
        contact_count -> BigInt,
        details_sealed -> Nullable<Text>,
        status -> Text,
        created_at -> Timestamp,
        closed_at -> Nullable<Timestamp>,
        closed_by -> Nullable<BigInt>,
        note -> Nullable<Text>,
    }
}

diesel::table! {
    traces (id) {
        id -> BigInt,
        created_by -> BigInt,
        region_code -> Text,
        case_person_id -> BigInt,
        from_at -> Timestamp,
        to_at -> Timestamp,
        depth -> Integer,
        contact_count -> BigInt,
        result_sealed -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    trace_color_changes (id) {
        id -> BigInt,
        trace_id -> BigInt,
        level -> Nullable<Integer>,
        color -> Text,
        reason_code -> Text,
        person_count -> BigInt,
        status -> Text,
        requested_by -> BigInt,
        requested_at -> Timestamp,
        confirmed_by -> Nullable<BigInt>,
        applied_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    follow_ups (id) {
        id -> BigInt,
        person_id -> BigInt,
        region_code -> Text,
        color -> Text,
        cause -> Text,
        venue_id -> Nullable<BigInt>,
        check_in_id -> Nullable<BigInt>,
        status -> Text,
        created_at -> Timestamp,
        closed_at -> Nullable<Timestamp>,
        closed_by -> Nullable<BigInt>,
        outcome_sealed -> Nullable<Text>,
    }
}

diesel::table! {
    risk_windows (id) {
        id -> BigInt,
        venue_id -> BigInt,
        from_at -> Timestamp,
        to_at -> Timestamp,
        message -> Text,
        created_by -> BigInt,
        created_at -> Timestamp,
    }
}

diesel::table! {
    notifications (id) {
        id -> BigInt,
        kind -> Text,
        account_id -> BigInt,
        person_id -> Nullable<BigInt>,
        risk_window_id -> Nullable<BigInt>,
        stay_from -> Nullable<Timestamp>,
        stay_to -> Nullable<Timestamp>,
        message -> Nullable<Text>,
        created_at -> Timestamp,
        delivery -> Text,
        delivery_values -> Nullable<Text>,
        delivery_attempts -> Integer,
        deliver_after -> Nullable<Timestamp>,
        delivered_at -> Nullable<Timestamp>,
        delivery_error -> Nullable<Text>,
    }
}

diesel::joinable!(notifications -> risk_windows (risk_window_id));
diesel::joinable!(notifications -> accounts (account_id));
diesel::joinable!(test_results -> persons (person_id));
diesel::joinable!(vaccinations -> persons (person_id));
diesel::joinable!(risk_windows -> venues (venue_id));
diesel::joinable!(entrances -> venues (venue_id));
diesel::joinable!(venue_staff -> venues (venue_id));
diesel::joinable!(check_ins -> venues (venue_id));
diesel::joinable!(check_ins -> entrances (entrance_id));
diesel::joinable!(companions -> persons (person_id));
diesel::joinable!(alerts -> venues (venue_id));
diesel::allow_tables_to_appear_in_same_query!(
    venues,
    entrances,
    venue_staff,
    regions,
    check_ins,
    persons,
    companions,
    health_codes,
    alerts,
    accounts,
    notifications,
    risk_windows,
    traces,
    trace_color_changes,
    health_code_changes,
    paper_codes,
    identity_verifications,
    follow_ups,
    test_results,
    vaccinations,
);
diesel::joinable!(paper_codes -> persons (person_id));

diesel::table! {
    cache_changes (seq) {
        seq -> BigInt,
        key -> Text,
        changed_at -> Timestamp,
    }
}

diesel::table! {
    idempotency_keys (id) {
        id -> Text,
        principal -> Text,
        fingerprint -> Text,
        holder -> Text,
        started_at -> Timestamp,
        status -> Nullable<Integer>,
        answer_sealed -> Nullable<Text>,
    }
}
