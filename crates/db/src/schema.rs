// @generated from migrations/; kept in step by the `schema_matches_migrations` test.

diesel::table! {
    activities (athlete_id, id) {
        id -> Int8,
        athlete_id -> Int8,
        name -> Text,
        sport_type -> Text,
        start_date -> Timestamptz,
        start_date_local -> Timestamp,
        timezone -> Nullable<Text>,
        distance_m -> Float8,
        moving_time_s -> Int4,
        elapsed_time_s -> Int4,
        total_elevation_gain_m -> Float8,
        elev_high_m -> Nullable<Float8>,
        elev_low_m -> Nullable<Float8>,
        average_speed_mps -> Float8,
        max_speed_mps -> Float8,
        average_heartrate -> Nullable<Float8>,
        max_heartrate -> Nullable<Float8>,
        average_cadence -> Nullable<Float8>,
        average_watts -> Nullable<Float8>,
        weighted_average_watts -> Nullable<Int4>,
        max_watts -> Nullable<Int4>,
        kilojoules -> Nullable<Float8>,
        calories -> Nullable<Float8>,
        device_watts -> Bool,
        kudos_count -> Int4,
        comment_count -> Int4,
        achievement_count -> Int4,
        pr_count -> Int4,
        commute -> Bool,
        trainer -> Bool,
        manual -> Bool,
        private -> Bool,
        flagged -> Bool,
        workout_type -> Nullable<Int4>,
        gear_id -> Nullable<Text>,
        source -> Text,
        raw -> Nullable<Jsonb>,
        fetched_at -> Timestamptz,
        device_name -> Nullable<Text>,
        details_fetched_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    best_efforts (athlete_id, activity_id, distance_m) {
        athlete_id -> Int8,
        activity_id -> Int8,
        name -> Text,
        distance_m -> Float8,
        elapsed_time_s -> Int4,
        moving_time_s -> Int4,
        start_date -> Timestamptz,
        start_date_local -> Timestamp,
        pr_rank -> Nullable<Int4>,
        source -> Text,
    }
}

diesel::table! {
    gear (athlete_id, id) {
        athlete_id -> Int8,
        id -> Text,
        name -> Text,
        kind -> Nullable<Text>,
        is_primary -> Bool,
        retired -> Bool,
        distance_m -> Nullable<Float8>,
        source -> Text,
        fetched_at -> Timestamptz,
    }
}

diesel::table! {
    app_sessions (id) {
        id -> Uuid,
        athlete_id -> Int8,
        created_at -> Timestamptz,
        expires_at -> Timestamptz,
        revoked_at -> Nullable<Timestamptz>,
        last_seen_at -> Timestamptz,
    }
}

diesel::table! {
    athletes (id) {
        id -> Int8,
        firstname -> Text,
        lastname -> Text,
        measurement_preference -> Text,
        units_override -> Nullable<Text>,
        timezone -> Nullable<Text>,
        needs_reconnect -> Bool,
        is_demo -> Bool,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        demo_expires_at -> Nullable<Timestamptz>,
        demo_client -> Nullable<Bytea>,
    }
}

diesel::table! {
    conversations (id) {
        id -> Uuid,
        athlete_id -> Int8,
        title -> Text,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    jobs (id) {
        id -> Int8,
        kind -> Text,
        payload -> Jsonb,
        dedupe_key -> Nullable<Text>,
        state -> Text,
        run_after -> Timestamptz,
        attempts -> Int4,
        max_attempts -> Int4,
        lease_until -> Nullable<Timestamptz>,
        last_error -> Nullable<Text>,
        progress -> Nullable<Jsonb>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    login_tickets (ticket_hash) {
        ticket_hash -> Bytea,
        athlete_id -> Int8,
        created_at -> Timestamptz,
        expires_at -> Timestamptz,
        used_at -> Nullable<Timestamptz>,
        browser_binding -> Nullable<Text>,
    }
}

diesel::table! {
    messages (id) {
        id -> Int8,
        conversation_id -> Uuid,
        athlete_id -> Int8,
        role -> Text,
        content -> Text,
        answer -> Nullable<Jsonb>,
        plan -> Nullable<Jsonb>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    strava_tokens (athlete_id) {
        athlete_id -> Int8,
        access_token_enc -> Bytea,
        refresh_token_enc -> Bytea,
        expires_at -> Timestamptz,
        scopes -> Text,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    sync_status (athlete_id) {
        athlete_id -> Int8,
        state -> Text,
        pages_fetched -> Int4,
        activities_synced -> Int4,
        estimated_total -> Nullable<Int4>,
        next_page -> Int4,
        last_synced_at -> Nullable<Timestamptz>,
        last_error -> Nullable<Text>,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    upload_chunks (upload_id, seq) {
        upload_id -> Int8,
        seq -> Int4,
        data -> Bytea,
    }
}

diesel::table! {
    uploads (id) {
        id -> Int8,
        athlete_id -> Int8,
        filename -> Text,
        size_bytes -> Int8,
        state -> Text,
        summary -> Nullable<Jsonb>,
        created_at -> Timestamptz,
        finished_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    webhook_events (id) {
        id -> Int8,
        dedupe_key -> Text,
        subscription_id -> Int8,
        object_type -> Text,
        object_id -> Int8,
        aspect_type -> Text,
        owner_id -> Int8,
        event_time -> Int8,
        updates -> Jsonb,
        status -> Text,
        attempts -> Int4,
        next_attempt_at -> Timestamptz,
        lease_until -> Nullable<Timestamptz>,
        last_error -> Nullable<Text>,
        received_at -> Timestamptz,
        processed_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    webhook_owner_calls (owner_id, window_start) {
        owner_id -> Int8,
        window_start -> Timestamptz,
        calls -> Int4,
    }
}

diesel::table! {
    webhook_objects (object_type, object_id) {
        object_type -> Text,
        object_id -> Int8,
        applied_at -> Timestamptz,
    }
}

diesel::table! {
    api_rate_limits (athlete_id, window_start) {
        athlete_id -> Int8,
        window_start -> Timestamptz,
        hits -> Int4,
    }
}

diesel::table! {
    ask_slots (athlete_id, slot) {
        athlete_id -> Int8,
        slot -> Int2,
        holder -> Uuid,
        expires_at -> Timestamptz,
        holder_pid -> Nullable<Int4>,
        holder_since -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    api_tokens (id) {
        id -> Uuid,
        athlete_id -> Int8,
        name -> Text,
        token_hash -> Bytea,
        created_at -> Timestamptz,
        last_used_at -> Nullable<Timestamptz>,
        revoked_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    strava_rate_windows (window_kind, window_start) {
        window_kind -> Text,
        window_start -> Timestamptz,
        overall_usage -> Int4,
        overall_limit -> Nullable<Int4>,
        read_usage -> Int4,
        read_limit -> Nullable<Int4>,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    oauth_states (nonce_hash) {
        nonce_hash -> Bytea,
        used_at -> Timestamptz,
        expires_at -> Timestamptz,
    }
}

diesel::joinable!(activities -> athletes (athlete_id));
diesel::joinable!(app_sessions -> athletes (athlete_id));
diesel::joinable!(conversations -> athletes (athlete_id));
diesel::joinable!(gear -> athletes (athlete_id));
diesel::joinable!(api_rate_limits -> athletes (athlete_id));
diesel::joinable!(api_tokens -> athletes (athlete_id));
diesel::joinable!(ask_slots -> athletes (athlete_id));
diesel::joinable!(login_tickets -> athletes (athlete_id));
diesel::joinable!(messages -> conversations (conversation_id));
diesel::joinable!(strava_tokens -> athletes (athlete_id));
diesel::joinable!(sync_status -> athletes (athlete_id));
diesel::joinable!(upload_chunks -> uploads (upload_id));
diesel::joinable!(uploads -> athletes (athlete_id));

diesel::allow_tables_to_appear_in_same_query!(
    activities,
    api_rate_limits,
    api_tokens,
    app_sessions,
    ask_slots,
    athletes,
    best_efforts,
    conversations,
    gear,
    jobs,
    login_tickets,
    messages,
    oauth_states,
    strava_rate_windows,
    strava_tokens,
    sync_status,
    upload_chunks,
    uploads,
    webhook_events,
    webhook_objects,
    webhook_owner_calls,
);
