//! The request and response bodies of the console routes (settings, rules, audit) and their
//! conversions from the domain types.

use alphapulse_console::TenantWithSettings;
use alphapulse_domain::{
    ports::{
        AuditAction, CandidateStatus, DecisionAuditRow, Evidence, Rule, RuleCandidate, RulesChange,
        RulesVersion, TenantSettings,
    },
    Regime, Side, TenantId,
};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The pattern `llm_tenant_cap_usd` accepts: 0 to 1 000 000 000 with at most 2 decimals.
pub const USD_CAP_PATTERN: &str = r"^(1000000000(\.0{1,2})?|[0-9]{1,9}(\.[0-9]{1,2})?)$";

/// A tenant's console settings.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SettingsResponse {
    /// The tenant.
    pub tenant_id: Uuid,
    /// Whether decisions that pass every check are executed without a person.
    pub autopost_enabled: bool,
    /// Lowest calibrated probability auto-executed.
    #[schema(minimum = 0.80, maximum = 0.98)]
    pub autopost_threshold: f64,
    /// Most LLM spend per calendar month (UTC), USD (decimal string).
    #[schema(example = "250")]
    pub llm_tenant_cap_usd: String,
    /// Last change (`null`: the defaults, never changed).
    pub updated_at: Option<DateTime<Utc>>,
    /// Who changed them last.
    pub updated_by: Option<Uuid>,
}

impl SettingsResponse {
    /// The settings of `tenant`.
    pub fn of(tenant: TenantId, s: TenantSettings) -> Self {
        Self {
            tenant_id: tenant.as_uuid(),
            autopost_enabled: s.autopost_enabled,
            autopost_threshold: s.autopost_threshold,
            llm_tenant_cap_usd: s.llm_tenant_cap_usd.normalize().to_string(),
            updated_at: s.updated_at,
            updated_by: s.updated_by.map(|u| u.as_uuid()),
        }
    }
}

/// A tenant with its settings.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TenantSettingsItem {
    /// The tenant's name.
    pub name: String,
    /// Its handle.
    pub slug: String,
    /// `active`, `suspended` or `cancelled`.
    pub status: String,
    /// Its settings.
    #[serde(flatten)]
    pub settings: SettingsResponse,
}

impl From<TenantWithSettings> for TenantSettingsItem {
    fn from(t: TenantWithSettings) -> Self {
        Self {
            name: t.tenant.name,
            slug: t.tenant.slug.to_string(),
            status: t.tenant.status.to_string(),
            settings: SettingsResponse::of(t.tenant.id, t.settings),
        }
    }
}

/// Body of `POST /api/v1/tenants/{id}/settings`: any of the fields, at least one.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateSettingsRequest {
    /// Auto-execute decisions that pass every check.
    #[schema(nullable = false)]
    #[serde(default, deserialize_with = "crate::extract::present")]
    pub autopost_enabled: Option<bool>,
    /// `0.80..=0.98` (anything else: 422, nothing written).
    #[schema(minimum = 0.80, maximum = 0.98, nullable = false)]
    #[serde(default, deserialize_with = "crate::extract::present")]
    pub autopost_threshold: Option<f64>,
    /// Monthly LLM cap in USD, a decimal string `0..=1000000000` with at most 2 decimals.
    #[schema(
        pattern = r"^(1000000000(\.0{1,2})?|[0-9]{1,9}(\.[0-9]{1,2})?)$",
        nullable = false,
        example = "250.00"
    )]
    #[serde(default, deserialize_with = "crate::extract::present")]
    pub llm_tenant_cap_usd: Option<String>,
}

/// The tenant a rules or audit call acts on.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TenantParam {
    /// Owner: any tenant; staff: an assigned tenant (default: the caller's own tenant).
    /// A tenant the caller may not see is 404.
    pub tenant_id: Option<Uuid>,
}

/// Filter of the candidate list.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CandidateFilter {
    /// Candidates in this state (default `pending`).
    #[param(value_type = Option<CandidateStatus>)]
    pub status: Option<String>,
}

/// A market regime in rule patterns (`unknown` when none could be determined).
#[derive(Debug, Clone, Copy, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RegimeName {
    /// Bull.
    Bull,
    /// Bear.
    Bear,
    /// Sideways.
    Sideways,
    /// Crisis.
    Crisis,
    /// Recovery.
    Recovery,
    /// Not known when decided.
    Unknown,
}

impl From<Option<Regime>> for RegimeName {
    fn from(r: Option<Regime>) -> Self {
        match r {
            Some(Regime::Bull) => Self::Bull,
            Some(Regime::Bear) => Self::Bear,
            Some(Regime::Sideways) => Self::Sideways,
            Some(Regime::Crisis) => Self::Crisis,
            Some(Regime::Recovery) => Self::Recovery,
            None => Self::Unknown,
        }
    }
}

/// What the decision history says about a pattern.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct EvidenceResponse {
    /// Decisions with a realised outcome.
    pub count: u32,
    /// Share whose direction was right.
    pub precision: f64,
    /// Sample standard deviation of their directional returns (`null` below 2).
    pub std_dev: Option<f64>,
}

impl From<Evidence> for EvidenceResponse {
    fn from(e: Evidence) -> Self {
        Self {
            count: e.count,
            precision: e.precision,
            std_dev: e.std_dev,
        }
    }
}

/// A rule candidate.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CandidateResponse {
    /// Identifier.
    pub id: Uuid,
    /// Instrument.
    pub symbol: String,
    /// Side.
    pub side: Side,
    /// The ensemble.
    pub ensemble_id: Uuid,
    /// The market regime.
    pub regime: RegimeName,
    /// Its evidence.
    pub evidence: EvidenceResponse,
    /// Where it stands.
    pub status: CandidateStatus,
    /// When it was last mined.
    pub mined_at: DateTime<Utc>,
    /// Who reviewed it.
    pub reviewed_by: Option<Uuid>,
    /// When.
    pub reviewed_at: Option<DateTime<Utc>>,
    /// When it was first mined.
    pub created_at: DateTime<Utc>,
}

impl From<RuleCandidate> for CandidateResponse {
    fn from(c: RuleCandidate) -> Self {
        Self {
            id: c.id,
            symbol: c.pattern.symbol.to_string(),
            side: c.pattern.side,
            ensemble_id: c.pattern.ensemble_id,
            regime: c.pattern.regime.into(),
            evidence: c.evidence.into(),
            status: c.status,
            mined_at: c.mined_at,
            reviewed_by: c.reviewed_by.map(|u| u.as_uuid()),
            reviewed_at: c.reviewed_at,
            created_at: c.created_at,
        }
    }
}

/// An accepted rule.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RuleResponse {
    /// The candidate it came from.
    pub candidate_id: Uuid,
    /// Instrument.
    pub symbol: String,
    /// Side.
    pub side: Side,
    /// The ensemble.
    pub ensemble_id: Uuid,
    /// The market regime.
    pub regime: RegimeName,
    /// The evidence it was accepted on.
    pub evidence: EvidenceResponse,
    /// Who accepted it.
    pub accepted_by: Option<Uuid>,
    /// When.
    pub accepted_at: DateTime<Utc>,
}

impl From<Rule> for RuleResponse {
    fn from(r: Rule) -> Self {
        Self {
            candidate_id: r.candidate_id,
            symbol: r.pattern.symbol.to_string(),
            side: r.pattern.side,
            ensemble_id: r.pattern.ensemble_id,
            regime: r.pattern.regime.into(),
            evidence: r.evidence.into(),
            accepted_by: r.accepted_by.map(|u| u.as_uuid()),
            accepted_at: r.accepted_at,
        }
    }
}

/// A version of the tenant's rules, whole.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RulesVersionResponse {
    /// Identifier.
    pub id: Uuid,
    /// 1, 2, 3, ...
    pub version: i32,
    /// The version it was made from.
    pub parent_version: Option<i32>,
    /// What made it.
    pub change: RulesChange,
    /// The accepted candidate (accept).
    pub candidate_id: Option<Uuid>,
    /// The version restored (rollback).
    pub rolled_back_to: Option<i32>,
    /// Every rule in force from this version on.
    pub rules: Vec<RuleResponse>,
    /// Who made it.
    pub created_by: Option<Uuid>,
    /// When.
    pub created_at: DateTime<Utc>,
}

impl From<RulesVersion> for RulesVersionResponse {
    fn from(v: RulesVersion) -> Self {
        Self {
            id: v.id,
            version: v.version,
            parent_version: v.parent_version,
            change: v.change,
            candidate_id: v.candidate_id,
            rolled_back_to: v.rolled_back_to,
            rules: v.rules.into_iter().map(Into::into).collect(),
            created_by: v.created_by.map(|u| u.as_uuid()),
            created_at: v.created_at,
        }
    }
}

/// Answer of an accept or reject.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ReviewResponse {
    /// The candidate, reviewed.
    pub candidate: CandidateResponse,
    /// The new rules version (accept only).
    pub version: Option<RulesVersionResponse>,
}

/// Body of `POST /api/v1/rules/mine`: thresholds (the server's defaults for those left out).
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MineRequest {
    /// Decisions with a known outcome, at least.
    #[schema(minimum = 1, maximum = 10000)]
    #[serde(default, deserialize_with = "crate::extract::whole")]
    pub min_count: Option<u32>,
    /// Precision, at least.
    #[schema(minimum = 0.0, maximum = 1.0)]
    pub min_precision: Option<f64>,
    /// Standard deviation of the directional returns, at most.
    #[schema(minimum = 0.0, maximum = 1.0)]
    pub max_std_dev: Option<f64>,
    /// Days of decision history mined.
    #[schema(minimum = 1, maximum = 365)]
    #[serde(default, deserialize_with = "crate::extract::whole")]
    pub lookback_days: Option<u32>,
}

/// Answer of a mining run.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MinedResponse {
    /// The pending candidates of the patterns found (new or with refreshed evidence).
    pub candidates: Vec<CandidateResponse>,
}

/// Body of `POST /api/v1/rules/dryrun`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DryRunRequest {
    /// A candidate of the tenant (another tenant's: 404).
    pub candidate_id: Uuid,
}

/// Body of `POST /api/v1/rules/rollback`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RollbackRequest {
    /// The version to restore (unknown: 404).
    #[schema(value_type = i32, minimum = 1, maximum = 2147483647)]
    #[serde(deserialize_with = "crate::extract::whole")]
    pub to_version: Option<i32>,
}

/// Filters of the audit trail and its export.
#[derive(Debug, Clone, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditParams {
    /// First day, inclusive (UTC).
    pub date_from: Option<NaiveDate>,
    /// Last day, inclusive (UTC); before `date_from`: 422.
    pub date_to: Option<NaiveDate>,
    /// Only this action.
    #[param(value_type = Option<AuditAction>)]
    pub action: Option<String>,
    /// Only this `vendor_normalized`, e.g. `paper:BTCUSDT`.
    #[param(pattern = "^[A-Za-z0-9_.:-]{1,64}$")]
    pub vendor: Option<String>,
    /// Platform users: one tenant (owner: any; staff: an assigned one). Default: all the
    /// tenants the caller may see. A tenant the caller may not see is 404.
    pub tenant_id: Option<Uuid>,
}

impl AuditParams {
    /// The service's query.
    pub fn query(self) -> alphapulse_console::AuditQuery {
        alphapulse_console::AuditQuery {
            date_from: self.date_from,
            date_to: self.date_to,
            action: self.action,
            vendor: self.vendor,
            tenant_id: self.tenant_id.map(TenantId),
        }
    }
}

/// One row of the decision audit trail (the seed's columns).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AuditRowResponse {
    /// When.
    pub timestamp: DateTime<Utc>,
    /// The tenant.
    pub tenant_id: Uuid,
    /// The decision's id, or the change's (its `audit_log` row).
    pub txn_id: Uuid,
    /// Venue and symbol (`paper:BTCUSDT`), or what changed (`settings`, `rules:...`).
    pub vendor_normalized: String,
    /// What happened.
    pub action: AuditAction,
    /// Why a decision was not auto-executed (its first reason).
    pub not_auto_post_reason: Option<String>,
    /// The decision's calibrated probability.
    pub calibrated_p: Option<f64>,
    /// The threshold in force.
    pub threshold_used: Option<f64>,
    /// Who.
    pub user_id: Option<Uuid>,
}

impl From<DecisionAuditRow> for AuditRowResponse {
    fn from(r: DecisionAuditRow) -> Self {
        Self {
            timestamp: r.timestamp,
            tenant_id: r.tenant_id.as_uuid(),
            txn_id: r.txn_id,
            vendor_normalized: r.vendor_normalized,
            action: r.action,
            not_auto_post_reason: r.not_auto_post_reason,
            calibrated_p: r.calibrated_p,
            threshold_used: r.threshold_used,
            user_id: r.user_id.map(|u| u.as_uuid()),
        }
    }
}
