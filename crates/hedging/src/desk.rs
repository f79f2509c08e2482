//! The hedging desk: the use cases behind `GET /hedging/analysis` and the two trading
//! actions, `POST /hedging/execute` and `POST /hedging/close`.
//!
//! A trading action runs under the [`crate::idempotency`] protocol: a retry with the same
//! key and body answers the first result and places nothing twice. Client order ids derive
//! from the key, so even a retry that slips past the protocol cannot fill twice. The answer
//! and its `audit_log` row are stored in one transaction; each order's fill is atomic on its
//! own, and a partial failure is reported order by order.

use std::{future::Future, sync::Arc};

use alphapulse_domain::{
    ports::{AuditRepo, IdempotencyRepo, TenantRepo, TradingLocks},
    AuditOutcome, ExchangeClient, ExchangeError, NewAuditEntry, OrderRequest, Principal, RepoError,
    Tenant, ValidationError,
};
use serde::Serialize;
use serde_json::{json, Value};

use crate::{
    analyse, execution,
    idempotency::{self, Claim, IdempotencyKey, KeyError},
    HedgeAnalysis, OrderOutcome, PositionService,
};

/// The target when neither the request nor the tenant's metadata sets one: a full hedge.
pub const DEFAULT_TARGET: f64 = 1.0;

/// Why a desk call failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DeskError {
    /// The tenant's positions could not be read from its exchange.
    #[error("positions unavailable: {0}")]
    Positions(#[source] ExchangeError),
    /// A field of the request is invalid.
    #[error(transparent)]
    Invalid(#[from] ValidationError),
    /// The idempotency key cannot be used now.
    #[error(transparent)]
    Key(#[from] KeyError),
    /// Storage failed.
    #[error(transparent)]
    Repo(#[from] RepoError),
}

/// The answer of a trading action.
#[derive(Debug, Clone, PartialEq)]
pub enum Answer<T> {
    /// Done now.
    Fresh(T),
    /// The saved answer of an earlier request with the same key.
    Replayed {
        /// Its status.
        status: u16,
        /// Its body.
        body: Value,
    },
}

/// The answer of an execution.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Executed {
    /// `executed`, `partial`, `failed`, `dry_run` or `nothing_to_do`.
    pub status: &'static str,
    /// The ratio aimed at.
    pub target_hedge_ratio: f64,
    /// Each order and what happened to it.
    pub orders: Vec<OrderOutcome>,
}

/// The answer of a close.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Closed {
    /// `executed`, `partial`, `failed`, `dry_run` or `nothing_to_do`.
    pub status: &'static str,
    /// Each reduce-only order and what happened to it.
    pub closed: Vec<OrderOutcome>,
}

/// The desk (cheap to clone).
#[derive(Clone)]
pub struct HedgingDesk {
    positions: PositionService,
    exchange: Arc<dyn ExchangeClient>,
    tenants: Arc<dyn TenantRepo>,
    keys: Arc<dyn IdempotencyRepo>,
    audit: Arc<dyn AuditRepo>,
    locks: Arc<dyn TradingLocks>,
    stale_after: std::time::Duration,
}

/// How long an unfinished claim of an idempotency key holds before a retry takes it over.
pub const DEFAULT_STALE_AFTER: std::time::Duration = std::time::Duration::from_secs(300);

impl std::fmt::Debug for HedgingDesk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HedgingDesk").finish_non_exhaustive()
    }
}

/// The tenant's hedge target from its metadata (`hedging.target_hedge_ratio` in `0..=1`), else
/// [`DEFAULT_TARGET`].
fn target_of(tenant: &Tenant) -> f64 {
    tenant
        .metadata
        .pointer("/hedging/target_hedge_ratio")
        .and_then(Value::as_f64)
        .filter(|r| (0.0..=1.0).contains(r))
        .unwrap_or(DEFAULT_TARGET)
}

fn status_ok(status: &str) -> bool {
    !matches!(status, "failed" | "partial")
}

impl HedgingDesk {
    /// A desk over the tenant-routing exchange client, the stores it writes, and the
    /// per-tenant trading lock.
    pub fn new(
        exchange: Arc<dyn ExchangeClient>,
        tenants: Arc<dyn TenantRepo>,
        keys: Arc<dyn IdempotencyRepo>,
        audit: Arc<dyn AuditRepo>,
        locks: Arc<dyn TradingLocks>,
    ) -> Self {
        Self {
            positions: PositionService::new(exchange.clone()),
            exchange,
            tenants,
            keys,
            audit,
            locks,
            stale_after: DEFAULT_STALE_AFTER,
        }
    }

    /// Sets how long an unfinished claim of an idempotency key holds before a retry takes it
    /// over and reconciles ([`DEFAULT_STALE_AFTER`] by default).
    #[must_use]
    pub fn with_stale_after(mut self, stale_after: std::time::Duration) -> Self {
        self.stale_after = stale_after;
        self
    }

    /// The tenant's target: `metadata.hedging.target_hedge_ratio`, else [`DEFAULT_TARGET`].
    fn tenant_target(&self, caller: &Principal) -> Result<f64, DeskError> {
        Ok(target_of(&self.tenants.get(caller.tenant_id)?))
    }

    fn analysis_at(&self, caller: &Principal, target: f64) -> Result<HedgeAnalysis, DeskError> {
        let actor = caller.actor();
        let spot = self.positions.spot(&actor).map_err(DeskError::Positions)?;
        let futures = self
            .positions
            .futures(&actor)
            .map_err(DeskError::Positions)?;
        Ok(analyse(&spot, &futures, target))
    }

    /// Exposure per asset, current and target hedge ratio, and the recommended orders.
    ///
    /// # Errors
    /// Positions unavailable, storage failures.
    pub fn analysis(&self, caller: &Principal) -> Result<HedgeAnalysis, DeskError> {
        let target = self.tenant_target(caller)?;
        self.analysis_at(caller, target)
    }

    /// [`HedgingDesk::analysis`] without blocking a thread, when its two reads (the tenant's
    /// target; spot and futures positions in one account view) can be served so; `None`: call
    /// [`HedgingDesk::analysis`] on a blocking thread.
    pub fn analysis_nonblocking(
        &self,
        caller: &Principal,
    ) -> Option<impl Future<Output = Result<HedgeAnalysis, DeskError>> + Send + 'static> {
        let actor = caller.actor();
        let tenant = self.tenants.own_nonblocking(&actor)?;
        let positions = self.positions.both_nonblocking(&actor)?;
        Some(async move {
            let target = target_of(&tenant.await?);
            let (spot, futures) = positions.await.map_err(DeskError::Positions)?;
            Ok(analyse(&spot, &futures, target))
        })
    }

    /// Places the orders that bring every hedge to `target` (default: the tenant's), or
    /// plans them with `dry_run`.
    ///
    /// # Errors
    /// A target outside `0..=1`, a key in use or reused with another body, positions
    /// unavailable, storage failures.
    pub fn execute(
        &self,
        caller: &Principal,
        key: Option<IdempotencyKey>,
        target: Option<f64>,
        dry_run: bool,
    ) -> Result<Answer<Executed>, DeskError> {
        if target.is_some_and(|t| !(0.0..=1.0).contains(&t)) {
            return Err(
                ValidationError::new("target_hedge_ratio", "must be between 0 and 1").into(),
            );
        }
        let scope = "hedging.execute";
        let prefix = execution::order_id_prefix(key.as_ref().map(IdempotencyKey::as_str), scope);
        let canonical = json!({"target_hedge_ratio": target, "dry_run": dry_run});
        self.trading_action(
            caller,
            (scope, key, &canonical, dry_run),
            || match target {
                Some(t) => Ok(t),
                None => self.tenant_target(caller),
            },
            |target| {
                let analysis = self.analysis_at(caller, target)?;
                Ok(execution::plan(&analysis.recommendations, &prefix))
            },
            |target, status, orders| Executed {
                status,
                target_hedge_ratio: target,
                orders,
            },
        )
    }

    /// Closes every short futures hedge with reduce-only orders (or plans it with `dry_run`).
    ///
    /// # Errors
    /// A key in use or reused with another body, positions unavailable, storage failures.
    pub fn close(
        &self,
        caller: &Principal,
        key: Option<IdempotencyKey>,
        dry_run: bool,
    ) -> Result<Answer<Closed>, DeskError> {
        let scope = "hedging.close";
        let prefix = execution::order_id_prefix(key.as_ref().map(IdempotencyKey::as_str), scope);
        let canonical = json!({"dry_run": dry_run});
        self.trading_action(
            caller,
            (scope, key, &canonical, dry_run),
            || Ok(()),
            |()| {
                let futures = self
                    .positions
                    .futures(&caller.actor())
                    .map_err(DeskError::Positions)?;
                Ok(execution::plan_close(&futures, &prefix))
            },
            |(), status, closed| Closed { status, closed },
        )
    }

    /// Plans (`dry_run`) or places `orders`; the overall status and each order's outcome.
    fn place_or_plan(
        &self,
        caller: &Principal,
        orders: &[OrderRequest],
        dry_run: bool,
    ) -> (&'static str, Vec<OrderOutcome>) {
        if dry_run {
            return ("dry_run", execution::dry_run(orders));
        }
        let outcomes = execution::place_all(&*self.exchange, &caller.actor(), orders);
        (execution::overall_status(&outcomes), outcomes)
    }

    /// Runs a trading action: under the tenant's trading lock (unless it only plans) and the
    /// idempotency protocol, audited.
    ///
    /// `context` gives what the answer needs besides the orders (the target), `plan` plans the
    /// orders from positions read now, holding the lock (so an action that waited for another
    /// sees what that one placed), and `answer` builds the body. With a key, the plan is
    /// stored before the first order goes out; a retry of an attempt that died midway (its
    /// claim older than the stale time) places that stored plan again, with the same client
    /// order ids, and the venue answers the orders that went out with their first fills:
    /// nothing is placed twice and nothing is left unreported.
    fn trading_action<C: Copy, T: Serialize>(
        &self,
        caller: &Principal,
        (scope, key, canonical, dry_run): (&'static str, Option<IdempotencyKey>, &Value, bool),
        context: impl FnOnce() -> Result<C, DeskError>,
        plan: impl FnOnce(C) -> Result<Vec<OrderRequest>, DeskError>,
        answer: impl FnOnce(C, &'static str, Vec<OrderOutcome>) -> T,
    ) -> Result<Answer<T>, DeskError> {
        let actor = caller.actor();
        let _guard = if dry_run {
            None
        } else {
            Some(self.locks.acquire(&actor, scope)?)
        };
        let hash = idempotency::request_hash(canonical);
        let claim = idempotency::claim(&*self.keys, &actor, scope, key, &hash, self.stale_after)?;
        if let Claim::Replay { status, body } = claim {
            tracing::info!(scope, "idempotent replay");
            return Ok(Answer::Replayed { status, body });
        }
        let planned = context().and_then(|ctx| {
            let orders = match claim.stored_plan()? {
                Some(stored) => {
                    tracing::info!(scope, orders = stored.len(), "resuming a stopped attempt");
                    stored
                }
                None => {
                    let orders = plan(ctx)?;
                    if !dry_run {
                        idempotency::record_plan(&*self.keys, &actor, scope, &claim, &orders)?;
                    }
                    orders
                }
            };
            Ok((ctx, orders))
        });
        let (ctx, orders) = match planned {
            Ok(planned) => planned,
            Err(err) => {
                // Nothing was placed (the failure came before any order): free the key.
                idempotency::release(&*self.keys, &actor, scope, &claim);
                return Err(err);
            }
        };
        let (status, outcomes) = self.place_or_plan(caller, &orders, dry_run);
        let answer = answer(ctx, status, outcomes);
        let body = serde_json::to_value(&answer)
            .map_err(|e| RepoError::Internal(format!("serialising the answer: {e}")))?;
        let entry = NewAuditEntry {
            tenant_id: caller.tenant_id,
            user_id: Some(caller.user_id),
            action: scope.to_owned(),
            target: format!("tenant:{}", caller.tenant_id),
            outcome: if status_ok(status) {
                AuditOutcome::Success
            } else {
                AuditOutcome::Failure
            },
            request_id: caller.request_id.clone(),
            details: caller.with_client_id(body.clone()),
        };
        idempotency::save(
            &*self.keys,
            &*self.audit,
            &actor,
            scope,
            &claim,
            &body,
            entry,
        )?;
        Ok(Answer::Fresh(answer))
    }
}

#[cfg(test)]
#[path = "desk_tests.rs"]
mod tests;
