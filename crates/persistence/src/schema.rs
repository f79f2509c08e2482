//! Diesel table definitions, kept in step with `migrations/` (a test compares them with the
//! migrated database's catalog).

diesel::table! {
    tenants (id) {
        id -> Uuid,
        name -> Varchar,
        slug -> Varchar,
        subscription_tier -> Varchar,
        status -> Varchar,
        max_users -> Int4,
        max_api_calls_per_day -> Int4,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        metadata -> Jsonb,
    }
}

diesel::table! {
    users (id) {
        id -> Uuid,
        tenant_id -> Uuid,
        email -> Varchar,
        password_hash -> Text,
        role -> Varchar,
        active -> Bool,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    user_tenants (tenant_id, user_id) {
        tenant_id -> Uuid,
        user_id -> Uuid,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    orders (tenant_id, id) {
        tenant_id -> Uuid,
        id -> Uuid,
        client_order_id -> Varchar,
        exchange_order_id -> Nullable<Varchar>,
        symbol -> Varchar,
        market -> Varchar,
        side -> Varchar,
        order_type -> Varchar,
        quantity -> Numeric,
        price -> Nullable<Numeric>,
        filled_quantity -> Numeric,
        status -> Varchar,
        reduce_only -> Bool,
        created_by -> Nullable<Uuid>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    trades (tenant_id, id) {
        tenant_id -> Uuid,
        id -> Uuid,
        order_id -> Nullable<Uuid>,
        symbol -> Varchar,
        market -> Varchar,
        side -> Varchar,
        quantity -> Numeric,
        price -> Numeric,
        fee -> Numeric,
        fee_asset -> Nullable<Varchar>,
        realized_pnl -> Nullable<Numeric>,
        executed_at -> Timestamptz,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    positions (tenant_id, id) {
        tenant_id -> Uuid,
        id -> Uuid,
        symbol -> Varchar,
        market -> Varchar,
        side -> Varchar,
        quantity -> Numeric,
        entry_price -> Numeric,
        leverage -> Numeric,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    portfolio_snapshots (tenant_id, id) {
        tenant_id -> Uuid,
        id -> Uuid,
        total_value -> Numeric,
        cash -> Numeric,
        positions_value -> Numeric,
        holdings -> Jsonb,
        taken_at -> Timestamptz,
        created_at -> Timestamptz,
        gross_exposure -> Nullable<Numeric>,
        source -> Varchar,
        bucket -> Nullable<Int8>,
    }
}

diesel::table! {
    risk_metrics (tenant_id, id) {
        tenant_id -> Uuid,
        id -> Uuid,
        metric -> Varchar,
        scope -> Varchar,
        value -> Float8,
        window_days -> Nullable<Int4>,
        calculated_at -> Timestamptz,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    agent_signals (tenant_id, id) {
        tenant_id -> Uuid,
        id -> Uuid,
        agent_id -> Varchar,
        agent_type -> Varchar,
        symbol -> Varchar,
        signal -> Float8,
        confidence -> Float8,
        metadata -> Jsonb,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    audit_log (tenant_id, id) {
        tenant_id -> Uuid,
        id -> Uuid,
        user_id -> Nullable<Uuid>,
        action -> Varchar,
        target -> Varchar,
        outcome -> Varchar,
        request_id -> Nullable<Varchar>,
        details -> Jsonb,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    exchange_accounts (tenant_id, id) {
        tenant_id -> Uuid,
        id -> Uuid,
        adapter -> Varchar,
        label -> Varchar,
        credentials_encrypted -> Nullable<Text>,
        paper_cash -> Numeric,
        fee_rate -> Numeric,
        active -> Bool,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        testnet -> Bool,
        api_key_prefix -> Nullable<Varchar>,
        has_passphrase -> Bool,
        previous_credentials_encrypted -> Nullable<Text>,
        previous_valid_until -> Nullable<Timestamptz>,
        rotated_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    market_candles (symbol, interval, open_time) {
        symbol -> Varchar,
        interval -> Varchar,
        open_time -> Timestamptz,
        open -> Numeric,
        high -> Numeric,
        low -> Numeric,
        close -> Numeric,
        volume -> Numeric,
    }
}

diesel::table! {
    regime_configs (tenant_id, id) {
        tenant_id -> Uuid,
        id -> Uuid,
        universe -> Jsonb,
        lookback_days -> Int4,
        n_states -> Int4,
        updated_at -> Timestamptz,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    regime_history (tenant_id, id) {
        tenant_id -> Uuid,
        id -> Uuid,
        day -> Date,
        regime -> Varchar,
        confidence -> Float8,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    alerts (tenant_id, id) {
        tenant_id -> Uuid,
        id -> Uuid,
        source -> Varchar,
        severity -> Varchar,
        title -> Varchar,
        message -> Text,
        tags -> Array<Text>,
        dedup_key -> Varchar,
        details -> Jsonb,
        acknowledged -> Bool,
        acknowledged_by -> Nullable<Uuid>,
        acknowledged_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    idempotency_keys (tenant_id, id) {
        tenant_id -> Uuid,
        id -> Uuid,
        scope -> Varchar,
        key -> Varchar,
        request_hash -> Bpchar,
        status_code -> Nullable<Int4>,
        response -> Nullable<Jsonb>,
        created_at -> Timestamptz,
        completed_at -> Nullable<Timestamptz>,
        plan -> Nullable<Jsonb>,
    }
}

diesel::table! {
    api_usage_daily (tenant_id, day) {
        tenant_id -> Uuid,
        day -> Date,
        calls -> Int8,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    tenant_risk_limits (tenant_id) {
        tenant_id -> Uuid,
        max_position_weight -> Float8,
        max_leverage -> Float8,
        max_drawdown -> Float8,
        target_volatility -> Float8,
        updated_at -> Timestamptz,
        updated_by -> Nullable<Uuid>,
    }
}

diesel::table! {
    ensembles (tenant_id, id) {
        tenant_id -> Uuid,
        id -> Uuid,
        name -> Varchar,
        method -> Varchar,
        config -> Jsonb,
        weights_version -> Int4,
        created_by -> Nullable<Uuid>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    ensemble_agents (tenant_id, id) {
        tenant_id -> Uuid,
        id -> Uuid,
        ensemble_id -> Uuid,
        agent_id -> Varchar,
        agent_type -> Varchar,
        weight -> Float8,
        active -> Bool,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    ensemble_predictions (tenant_id, id) {
        tenant_id -> Uuid,
        id -> Uuid,
        ensemble_id -> Uuid,
        symbol -> Varchar,
        inputs -> Jsonb,
        prediction -> Float8,
        confidence -> Float8,
        contributions -> Jsonb,
        weights_version -> Int4,
        price_at -> Nullable<Numeric>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    ensemble_weight_history (tenant_id, id) {
        tenant_id -> Uuid,
        id -> Uuid,
        ensemble_id -> Uuid,
        version -> Int4,
        method -> Varchar,
        weights -> Jsonb,
        created_at -> Timestamptz,
    }
}

diesel::joinable!(users -> tenants (tenant_id));
diesel::table! {
    tenant_settings (tenant_id) {
        tenant_id -> Uuid,
        autopost_enabled -> Bool,
        autopost_threshold -> Float8,
        llm_tenant_cap_usd -> Numeric,
        updated_at -> Timestamptz,
        updated_by -> Nullable<Uuid>,
    }
}

diesel::table! {
    decisions (tenant_id, id) {
        tenant_id -> Uuid,
        id -> Uuid,
        prediction_id -> Nullable<Uuid>,
        ensemble_id -> Uuid,
        symbol -> Varchar,
        side -> Nullable<Varchar>,
        regime -> Varchar,
        prediction -> Float8,
        raw_confidence -> Float8,
        calibrated_p -> Float8,
        calibrated -> Bool,
        threshold_used -> Float8,
        action -> Varchar,
        reasons -> Array<Text>,
        detail -> Nullable<Varchar>,
        vendor_normalized -> Varchar,
        client_order_id -> Nullable<Varchar>,
        order_status -> Nullable<Varchar>,
        quantity -> Nullable<Numeric>,
        llm_cost_usd -> Numeric,
        user_id -> Nullable<Uuid>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    decision_audit_log (tenant_id, txn_id) {
        timestamp -> Timestamptz,
        tenant_id -> Uuid,
        txn_id -> Uuid,
        vendor_normalized -> Varchar,
        action -> Varchar,
        not_auto_post_reason -> Nullable<Varchar>,
        calibrated_p -> Nullable<Float8>,
        threshold_used -> Nullable<Float8>,
        user_id -> Nullable<Uuid>,
    }
}

diesel::table! {
    rule_candidates (tenant_id, id) {
        tenant_id -> Uuid,
        id -> Uuid,
        symbol -> Varchar,
        side -> Varchar,
        ensemble_id -> Uuid,
        regime -> Varchar,
        evidence_count -> Int4,
        evidence_precision -> Float8,
        evidence_std_dev -> Nullable<Float8>,
        status -> Varchar,
        mined_at -> Timestamptz,
        reviewed_by -> Nullable<Uuid>,
        reviewed_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    rules_versions (tenant_id, id) {
        tenant_id -> Uuid,
        id -> Uuid,
        version -> Int4,
        parent_version -> Nullable<Int4>,
        rules -> Jsonb,
        change -> Varchar,
        candidate_id -> Nullable<Uuid>,
        rolled_back_to -> Nullable<Int4>,
        created_by -> Nullable<Uuid>,
        created_at -> Timestamptz,
    }
}

diesel::joinable!(user_tenants -> users (user_id));

diesel::table! {
    risk_budgets (tenant_id, id) {
        tenant_id -> Uuid,
        id -> Uuid,
        version -> Int4,
        allocation_method -> Varchar,
        total_budget -> Numeric,
        volatility_target -> Float8,
        leverage_limit -> Float8,
        regime -> Nullable<Varchar>,
        reason -> Text,
        created_by -> Nullable<Uuid>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    risk_budget_allocations (tenant_id, id) {
        tenant_id -> Uuid,
        id -> Uuid,
        budget_id -> Uuid,
        ordinal -> Int4,
        entity -> Varchar,
        entity_type -> Varchar,
        allocated_amount -> Numeric,
        scope -> Jsonb,
        created_at -> Timestamptz,
    }
}

diesel::allow_tables_to_appear_in_same_query!(
    tenants,
    users,
    user_tenants,
    orders,
    trades,
    positions,
    portfolio_snapshots,
    risk_metrics,
    agent_signals,
    audit_log,
    exchange_accounts,
    market_candles,
    regime_configs,
    regime_history,
    alerts,
    idempotency_keys,
    tenant_risk_limits,
    api_usage_daily,
    ensembles,
    ensemble_agents,
    ensemble_predictions,
    ensemble_weight_history,
    risk_budgets,
    risk_budget_allocations,
    tenant_settings,
    decisions,
    decision_audit_log,
    rule_candidates,
    rules_versions,
);

/// Views (not tables: the drift test covers tables; the view's columns are checked by the
/// paper-ledger tests that read it).
pub mod views {
    diesel::table! {
        /// `spot_holdings_priced`: spot positions with the latest daily close (security invoker).
        spot_holdings_priced (tenant_id, symbol) {
            tenant_id -> Uuid,
            symbol -> Varchar,
            quantity -> Numeric,
            entry_price -> Numeric,
            close -> Nullable<Numeric>,
        }
    }

    diesel::table! {
        /// `futures_positions_marked`: futures positions with the latest daily close as their
        /// mark (security invoker).
        futures_positions_marked (tenant_id, symbol) {
            tenant_id -> Uuid,
            symbol -> Varchar,
            side -> Varchar,
            quantity -> Numeric,
            entry_price -> Numeric,
            leverage -> Numeric,
            mark -> Nullable<Numeric>,
        }
    }
}
