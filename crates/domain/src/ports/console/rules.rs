//! Rules: patterns of decisions (symbol, side, ensemble, regime) that may be auto-executed.
//! Candidates are mined from the decision history with their evidence; a person accepts or
//! rejects them; the accepted rules are stored whole as numbered versions (each with its
//! parent), and a rollback writes a new version equal to an old one.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::super::Actor;
use crate::{AuditNote, Page, PageRequest, Regime, RepoError, Side, Symbol, UserId};

/// What a rule matches.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct RulePattern {
    /// The instrument.
    pub symbol: Symbol,
    /// The side.
    pub side: Side,
    /// The ensemble that predicted.
    pub ensemble_id: Uuid,
    /// The market regime (`None`: decided while the regime was unknown).
    pub regime: Option<Regime>,
}

/// What the history says about a pattern.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evidence {
    /// Decisions of the pattern with a realised outcome.
    pub count: u32,
    /// Share of them whose direction was right.
    pub precision: f64,
    /// Sample standard deviation of their directional returns (`None` below 2).
    pub std_dev: Option<f64>,
}

/// Where a candidate stands.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    strum::Display,
    strum::EnumString,
    strum::IntoStaticStr,
    strum::VariantArray,
    strum::VariantNames,
)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum CandidateStatus {
    /// Waiting for review.
    Pending,
    /// Accepted into the rules.
    Accepted,
    /// Declined.
    Rejected,
}

impl crate::TextEnum for CandidateStatus {
    const FIELD: &'static str = "status";
}

/// A mined pattern to store as (or refresh on) a pending candidate.
#[derive(Debug, Clone, PartialEq)]
pub struct MinedCandidate {
    /// The pattern.
    pub pattern: RulePattern,
    /// Its evidence.
    pub evidence: Evidence,
}

/// A stored candidate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RuleCandidate {
    /// Identifier.
    pub id: Uuid,
    /// The pattern.
    pub pattern: RulePattern,
    /// Its evidence when last mined.
    pub evidence: Evidence,
    /// Where it stands.
    pub status: CandidateStatus,
    /// When it was last mined.
    pub mined_at: DateTime<Utc>,
    /// Who accepted or rejected it.
    pub reviewed_by: Option<UserId>,
    /// When.
    pub reviewed_at: Option<DateTime<Utc>>,
    /// When it was first mined.
    pub created_at: DateTime<Utc>,
}

/// An accepted rule, as stored in a version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rule {
    /// The candidate it came from.
    pub candidate_id: Uuid,
    /// What it matches.
    pub pattern: RulePattern,
    /// The evidence it was accepted on.
    pub evidence: Evidence,
    /// Who accepted it.
    pub accepted_by: Option<UserId>,
    /// When.
    pub accepted_at: DateTime<Utc>,
}

/// What made a rules version.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    strum::Display,
    strum::EnumString,
    strum::IntoStaticStr,
    strum::VariantArray,
    strum::VariantNames,
)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum RulesChange {
    /// A candidate was accepted (the parent's rules plus its rule).
    Accept,
    /// A rollback (the rules of an older version).
    Rollback,
}

impl crate::TextEnum for RulesChange {
    const FIELD: &'static str = "change";
}

/// One version of the tenant's rules, stored whole.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RulesVersion {
    /// Identifier.
    pub id: Uuid,
    /// 1, 2, 3, ...
    pub version: i32,
    /// The version it was made from (`None` for the first).
    pub parent_version: Option<i32>,
    /// Every rule in force from this version on.
    pub rules: Vec<Rule>,
    /// What made it.
    pub change: RulesChange,
    /// The accepted candidate (accept).
    pub candidate_id: Option<Uuid>,
    /// The version restored (rollback).
    pub rolled_back_to: Option<i32>,
    /// Who made it.
    pub created_by: Option<UserId>,
    /// When.
    pub created_at: DateTime<Utc>,
}

impl RulesVersion {
    /// Whether a rule of this version covers `pattern`.
    pub fn covers(&self, pattern: &RulePattern) -> bool {
        self.rules.iter().any(|r| &r.pattern == pattern)
    }
}

/// The tenant's rule candidates and rules versions. Every change takes its audit note and
/// appends an `audit_log` row and a `decision_audit_log` row in its own transaction.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
pub trait RulesRepo: Send + Sync {
    /// Stores mined patterns: a pending candidate of the same pattern gets the new evidence,
    /// other patterns a new pending candidate; patterns already accepted or rejected are left
    /// alone. The stored pending candidates of the mined patterns, in input order.
    ///
    /// # Errors
    /// Storage failures.
    fn upsert_candidates(
        &self,
        actor: &Actor,
        mined: &[MinedCandidate],
        at: DateTime<Utc>,
    ) -> Result<Vec<RuleCandidate>, RepoError>;

    /// A page of the tenant's candidates (of one status when given), newest first.
    ///
    /// # Errors
    /// A bad cursor (invalid); storage failures.
    fn candidates(
        &self,
        actor: &Actor,
        status: Option<CandidateStatus>,
        page: &PageRequest,
    ) -> Result<Page<RuleCandidate>, RepoError>;

    /// One of the tenant's candidates ([`RepoError::NotFound`] for another tenant's).
    ///
    /// # Errors
    /// Not found; storage failures.
    fn candidate(&self, actor: &Actor, id: Uuid) -> Result<RuleCandidate, RepoError>;

    /// The newest rules version (`None` before the first).
    ///
    /// # Errors
    /// Storage failures.
    fn current(&self, actor: &Actor) -> Result<Option<RulesVersion>, RepoError>;

    /// A page of the tenant's versions, newest first.
    ///
    /// # Errors
    /// A bad cursor (invalid); storage failures.
    fn versions(&self, actor: &Actor, page: &PageRequest) -> Result<Page<RulesVersion>, RepoError>;

    /// Accepts (a new version: the current rules plus the candidate's) or rejects a pending
    /// candidate, by `actor.user_id` at `at`, under the tenant's rules lock.
    ///
    /// # Errors
    /// [`RepoError::NotFound`]; [`RepoError::Conflict`] when it was reviewed already;
    /// storage failures.
    fn review(
        &self,
        actor: &Actor,
        id: Uuid,
        accept: bool,
        at: DateTime<Utc>,
        audit: &AuditNote,
    ) -> Result<(RuleCandidate, Option<RulesVersion>), RepoError>;

    /// Writes a new version whose rules are those of `to_version` (its parent: the current
    /// version), under the tenant's rules lock.
    ///
    /// # Errors
    /// [`RepoError::NotFound`] for an unknown version; storage failures.
    fn rollback(
        &self,
        actor: &Actor,
        to_version: i32,
        at: DateTime<Utc>,
        audit: &AuditNote,
    ) -> Result<RulesVersion, RepoError>;
}
