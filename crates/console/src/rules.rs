//! Rules: mining candidates from the decision history, dry runs, reviews, versions and
//! rollbacks.
//!
//! **Mining** groups the tenant's recent decisions that took a side by pattern (symbol, side,
//! ensemble, regime) and scores each pattern on the decisions whose outcome is known:
//! `count` (how many), `precision` (share whose direction was right) and `std_dev` (sample
//! standard deviation of their directional returns). A pattern is proposed when it reaches
//! the thresholds ([`MiningThresholds`]) and no accepted rule covers it yet.
//!
//! **Dry run** replays the recent decisions with the candidate's rule added to the current
//! rules: a decision whose only failing check was `no_rule` and that the candidate covers
//! would have been auto-executed. It reads and never writes.

use std::{
    collections::{BTreeMap, HashMap},
    sync::Arc,
};

use alphapulse_domain::{
    ports::{
        Actor, CandidateStatus, Clock, Decision, DecisionAction, DecisionReason, DecisionRepo,
        Evidence, MarketDataRepo, MinedCandidate, RuleCandidate, RulePattern, RulesRepo,
        RulesVersion,
    },
    Page, PageRequest, Principal, Side, Symbol, TenantId, TextEnum, ValidationError,
};
use alphapulse_ensemble::performance::mean_std;
use chrono::{DateTime, Duration, Utc};
use serde_json::json;
use uuid::Uuid;

use crate::{outcomes, Access, ConsoleError};

/// Most decisions mining and dry runs read.
pub const HISTORY_LIMIT: u32 = 20_000;
/// Most affected decisions a dry run lists.
pub const AFFECTED_LISTED: usize = 50;

/// When a pattern becomes a candidate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MiningThresholds {
    /// Decisions with a known outcome, at least (1..=10000).
    pub min_count: u32,
    /// Precision, at least (0..=1).
    pub min_precision: f64,
    /// Standard deviation of the directional returns, at most (0..=1).
    pub max_std_dev: f64,
    /// Days of history mined (1..=365).
    pub lookback_days: u32,
}

impl Default for MiningThresholds {
    fn default() -> Self {
        Self {
            min_count: 20,
            min_precision: 0.6,
            max_std_dev: 0.05,
            lookback_days: 90,
        }
    }
}

impl MiningThresholds {
    /// Every threshold out of its range.
    pub fn check(&self) -> Vec<ValidationError> {
        let mut out = Vec::new();
        if !(1..=10_000).contains(&self.min_count) {
            out.push(ValidationError::new(
                "min_count",
                "must be between 1 and 10000",
            ));
        }
        if !(self.min_precision.is_finite() && (0.0..=1.0).contains(&self.min_precision)) {
            out.push(ValidationError::new(
                "min_precision",
                "must be between 0 and 1",
            ));
        }
        if !(self.max_std_dev.is_finite() && (0.0..=1.0).contains(&self.max_std_dev)) {
            out.push(ValidationError::new(
                "max_std_dev",
                "must be between 0 and 1",
            ));
        }
        if !(1..=365).contains(&self.lookback_days) {
            out.push(ValidationError::new(
                "lookback_days",
                "must be between 1 and 365",
            ));
        }
        out
    }
}

/// The pattern of a decision that took a side.
pub fn pattern_of(d: &Decision) -> Option<RulePattern> {
    Some(RulePattern {
        symbol: d.symbol.clone(),
        side: d.side?,
        ensemble_id: d.ensemble_id,
        regime: d.regime,
    })
}

/// The evidence of every pattern in `decisions` (realised outcomes from `closes`), patterns
/// in order.
pub fn evidence_by_pattern(
    decisions: &[Decision],
    closes: &HashMap<Symbol, alphapulse_ensemble::Closes>,
) -> BTreeMap<RulePattern, Evidence> {
    let mut returns: BTreeMap<RulePattern, Vec<f64>> = BTreeMap::new();
    for d in decisions {
        let (Some(pattern), Some(r)) = (pattern_of(d), outcomes::realised(d, closes)) else {
            continue;
        };
        returns
            .entry(pattern)
            .or_default()
            .push(r.directional_return);
    }
    returns
        .into_iter()
        .map(|(pattern, rs)| {
            let hits = rs.iter().filter(|r| **r > 0.0).count();
            let (_, std) = mean_std(&rs);
            let evidence = Evidence {
                count: u32::try_from(rs.len()).unwrap_or(u32::MAX),
                precision: hits as f64 / rs.len() as f64,
                std_dev: std.filter(|s| s.is_finite()),
            };
            (pattern, evidence)
        })
        .collect()
}

/// The patterns that reach `thresholds` and that `current` does not cover.
pub fn mine(
    evidence: BTreeMap<RulePattern, Evidence>,
    thresholds: &MiningThresholds,
    current: Option<&RulesVersion>,
) -> Vec<MinedCandidate> {
    evidence
        .into_iter()
        .filter(|(p, e)| {
            e.count >= thresholds.min_count
                && e.precision >= thresholds.min_precision
                && e.std_dev.is_some_and(|s| s <= thresholds.max_std_dev)
                && !current.is_some_and(|c| c.covers(p))
        })
        .map(|(pattern, evidence)| MinedCandidate { pattern, evidence })
        .collect()
}

/// Counts of a reason before and after.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReasonDelta {
    /// Decisions with this first reason now.
    pub before: u32,
    /// With the candidate's rule.
    pub after: u32,
    /// `after - before`.
    pub delta: i64,
}

/// A decision a dry run changes.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AffectedDecision {
    /// The decision (`txn_id`).
    pub decision_id: Uuid,
    /// Its instrument.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub symbol: Symbol,
    /// Its side.
    pub side: Option<Side>,
    /// When it was made.
    pub created_at: DateTime<Utc>,
    /// Its calibrated probability.
    pub calibrated_p: f64,
    /// What it was.
    pub action_before: DecisionAction,
    /// What it would have been.
    pub action_after: DecisionAction,
}

/// The result of a dry run.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DryRun {
    /// The candidate.
    pub candidate_id: Uuid,
    /// Decisions replayed (the mining window).
    pub decisions_considered: u32,
    /// Share auto-executed now.
    pub automation_rate_before: f64,
    /// Share with the candidate's rule.
    pub automation_rate_after: f64,
    /// `after - before`.
    pub automation_rate_delta: f64,
    /// Per first reason (`not_auto_post_reason`), the counts before and after.
    pub reason_deltas: BTreeMap<String, ReasonDelta>,
    /// How many decisions would change.
    pub affected_decisions: u32,
    /// The first of them, newest first.
    pub affected: Vec<AffectedDecision>,
}

/// Replays `decisions` with `pattern` covered (pure).
pub fn dry_run(candidate_id: Uuid, pattern: &RulePattern, decisions: &[Decision]) -> DryRun {
    let mut before_counts: BTreeMap<String, u32> = BTreeMap::new();
    let mut after_counts: BTreeMap<String, u32> = BTreeMap::new();
    for r in DecisionReason::ALL {
        before_counts.insert(r.as_str().to_owned(), 0);
        after_counts.insert(r.as_str().to_owned(), 0);
    }
    let (mut auto_before, mut auto_after) = (0u32, 0u32);
    let mut affected = Vec::new();
    for d in decisions {
        let matches = pattern_of(d).as_ref() == Some(pattern);
        let after_reasons: Vec<DecisionReason> = if matches {
            d.reasons
                .iter()
                .copied()
                .filter(|r| *r != DecisionReason::NoRule)
                .collect()
        } else {
            d.reasons.clone()
        };
        let after_action = if matches && d.reasons.contains(&DecisionReason::NoRule) {
            crate::policy::action(d.side, &after_reasons)
        } else {
            d.action
        };
        if let Some(r) = d.reasons.first() {
            *before_counts.entry(r.as_str().to_owned()).or_default() += 1;
        }
        if let Some(r) = after_reasons.first() {
            *after_counts.entry(r.as_str().to_owned()).or_default() += 1;
        }
        auto_before += u32::from(d.action == DecisionAction::AutoExecuted);
        auto_after += u32::from(after_action == DecisionAction::AutoExecuted);
        if after_action != d.action {
            affected.push(AffectedDecision {
                decision_id: d.id,
                symbol: d.symbol.clone(),
                side: d.side,
                created_at: d.created_at,
                calibrated_p: d.calibrated_p,
                action_before: d.action,
                action_after: after_action,
            });
        }
    }
    let n = u32::try_from(decisions.len()).unwrap_or(u32::MAX);
    let rate = |k: u32| {
        if n == 0 {
            0.0
        } else {
            f64::from(k) / f64::from(n)
        }
    };
    let reason_deltas = before_counts
        .into_iter()
        .map(|(reason, before)| {
            let after = after_counts.get(&reason).copied().unwrap_or(0);
            let delta = i64::from(after) - i64::from(before);
            (
                reason,
                ReasonDelta {
                    before,
                    after,
                    delta,
                },
            )
        })
        .collect();
    let affected_decisions = u32::try_from(affected.len()).unwrap_or(u32::MAX);
    affected.sort_by_key(|a| std::cmp::Reverse(a.created_at));
    affected.truncate(AFFECTED_LISTED);
    DryRun {
        candidate_id,
        decisions_considered: n,
        automation_rate_before: rate(auto_before),
        automation_rate_after: rate(auto_after),
        automation_rate_delta: rate(auto_after) - rate(auto_before),
        reason_deltas,
        affected_decisions,
        affected,
    }
}

/// The rules service.
#[derive(Clone)]
pub struct RulesService {
    access: Access,
    rules: Arc<dyn RulesRepo>,
    decisions: Arc<dyn DecisionRepo>,
    market: Arc<dyn MarketDataRepo>,
    clock: Arc<dyn Clock>,
    defaults: MiningThresholds,
}

impl std::fmt::Debug for RulesService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RulesService")
            .field("defaults", &self.defaults)
            .finish_non_exhaustive()
    }
}

/// Optional thresholds of an on-demand mining (the service's defaults fill the rest).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct MineRequest {
    /// See [`MiningThresholds::min_count`].
    pub min_count: Option<u32>,
    /// See [`MiningThresholds::min_precision`].
    pub min_precision: Option<f64>,
    /// See [`MiningThresholds::max_std_dev`].
    pub max_std_dev: Option<f64>,
    /// See [`MiningThresholds::lookback_days`].
    pub lookback_days: Option<u32>,
}

impl RulesService {
    /// A service over the stores; `defaults` are the job's thresholds.
    pub fn new(
        access: Access,
        rules: Arc<dyn RulesRepo>,
        decisions: Arc<dyn DecisionRepo>,
        market: Arc<dyn MarketDataRepo>,
        clock: Arc<dyn Clock>,
        defaults: MiningThresholds,
    ) -> Self {
        Self {
            access,
            rules,
            decisions,
            market,
            clock,
            defaults,
        }
    }

    /// The job's thresholds.
    pub fn defaults(&self) -> MiningThresholds {
        self.defaults
    }

    fn reader(&self, caller: &Principal, tenant: Option<TenantId>) -> Result<Actor, ConsoleError> {
        Access::reader(caller)?;
        Ok(caller.acting_in(self.access.target(caller, tenant)?))
    }

    fn writer(&self, caller: &Principal, tenant: Option<TenantId>) -> Result<Actor, ConsoleError> {
        Access::writer(caller)?;
        Ok(caller.acting_in(self.access.target(caller, tenant)?))
    }

    fn history(&self, actor: &Actor, days: u32) -> Result<Vec<Decision>, ConsoleError> {
        let since = self.clock.now() - Duration::days(i64::from(days));
        Ok(self.decisions.history(actor, since, HISTORY_LIMIT)?)
    }

    /// Mines the tenant's history with `thresholds` and stores the candidates (the job's entry
    /// point, also behind [`RulesService::mine`]).
    ///
    /// # Errors
    /// Storage failures.
    pub fn mine_tenant(
        &self,
        actor: &Actor,
        thresholds: &MiningThresholds,
    ) -> Result<Vec<RuleCandidate>, ConsoleError> {
        let history = self.history(actor, thresholds.lookback_days)?;
        let now = self.clock.now();
        let closes = outcomes::closes_for(self.market.as_ref(), actor, &history, now)?;
        let evidence = evidence_by_pattern(&history, &closes);
        let current = self.rules.current(actor)?;
        let mined = mine(evidence, thresholds, current.as_ref());
        if mined.is_empty() {
            return Ok(Vec::new());
        }
        Ok(self.rules.upsert_candidates(actor, &mined, now)?)
    }

    /// Mines on demand (owner or the tenant's admin).
    ///
    /// # Errors
    /// 403, 404 (tenant), 422 (thresholds), storage failures.
    pub fn mine(
        &self,
        caller: &Principal,
        tenant: Option<TenantId>,
        request: MineRequest,
    ) -> Result<Vec<RuleCandidate>, ConsoleError> {
        let actor = self.writer(caller, tenant)?;
        let thresholds = MiningThresholds {
            min_count: request.min_count.unwrap_or(self.defaults.min_count),
            min_precision: request.min_precision.unwrap_or(self.defaults.min_precision),
            max_std_dev: request.max_std_dev.unwrap_or(self.defaults.max_std_dev),
            lookback_days: request.lookback_days.unwrap_or(self.defaults.lookback_days),
        };
        let errors = thresholds.check();
        if !errors.is_empty() {
            return Err(ConsoleError::Invalid(errors));
        }
        self.mine_tenant(&actor, &thresholds)
    }

    /// A page of candidates (pending only unless `status` says otherwise), newest first.
    ///
    /// # Errors
    /// 403, 404 (tenant), a bad cursor (422), storage failures.
    pub fn candidates(
        &self,
        caller: &Principal,
        tenant: Option<TenantId>,
        status: Option<CandidateStatus>,
        page: &PageRequest,
    ) -> Result<Page<RuleCandidate>, ConsoleError> {
        let actor = self.reader(caller, tenant)?;
        Ok(self.rules.candidates(&actor, status, page)?)
    }

    /// Dry-runs a candidate of the tenant (writes nothing).
    ///
    /// # Errors
    /// 403, 404 (tenant, or a candidate of another tenant), storage failures.
    pub fn dry_run(
        &self,
        caller: &Principal,
        tenant: Option<TenantId>,
        candidate_id: Uuid,
    ) -> Result<DryRun, ConsoleError> {
        let actor = self.reader(caller, tenant)?;
        let candidate = self.rules.candidate(&actor, candidate_id)?;
        let history = self.history(&actor, self.defaults.lookback_days)?;
        Ok(dry_run(candidate.id, &candidate.pattern, &history))
    }

    /// Accepts (`true`) or rejects a pending candidate; accepting writes a new rules version.
    ///
    /// # Errors
    /// 403, 404, 409 when it was reviewed already, storage failures.
    pub fn review(
        &self,
        caller: &Principal,
        tenant: Option<TenantId>,
        candidate_id: Uuid,
        accept: bool,
    ) -> Result<(RuleCandidate, Option<RulesVersion>), ConsoleError> {
        let actor = self.writer(caller, tenant)?;
        let action = if accept {
            "rules.accept"
        } else {
            "rules.reject"
        };
        let note = caller.note(action, json!({ "candidate_id": candidate_id }));
        Ok(self
            .rules
            .review(&actor, candidate_id, accept, self.clock.now(), &note)?)
    }

    /// A page of the tenant's rules versions, newest first, and the current one.
    ///
    /// # Errors
    /// 403, 404 (tenant), a bad cursor (422), storage failures.
    pub fn versions(
        &self,
        caller: &Principal,
        tenant: Option<TenantId>,
        page: &PageRequest,
    ) -> Result<Page<RulesVersion>, ConsoleError> {
        let actor = self.reader(caller, tenant)?;
        Ok(self.rules.versions(&actor, page)?)
    }

    /// Writes a new version equal to `to_version`.
    ///
    /// # Errors
    /// 403, 404 (tenant or version), storage failures.
    pub fn rollback(
        &self,
        caller: &Principal,
        tenant: Option<TenantId>,
        to_version: i32,
    ) -> Result<RulesVersion, ConsoleError> {
        let actor = self.writer(caller, tenant)?;
        let note = caller.note("rules.rollback", json!({ "to_version": to_version }));
        Ok(self
            .rules
            .rollback(&actor, to_version, self.clock.now(), &note)?)
    }
}

#[cfg(test)]
mod tests;
