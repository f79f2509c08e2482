//! The decision desk: one service call that predicts with an ensemble and turns the prediction
//! into a decision under the tenant's policy ([`crate::policy`]).
//!
//! 1. the ensemble service combines and stores the prediction (audited as before);
//! 2. the ensemble's calibration maps its confidence to a probability
//!    ([`crate::calibration`], fitted on the ensemble's decided past, cached per market-data
//!    version so it is refitted when new closes bring new outcomes);
//! 3. the checks run: autopost, threshold, an accepted rule for (symbol, side, ensemble,
//!    regime), the month's LLM spend, and the order's size against the risk limits;
//! 4. when every check passes, the order is placed under the tenant's trading lock (the book is
//!    re-read and re-checked while holding it) with a client order id derived from the
//!    request's `Idempotency-Key` or, without one, from the prediction: a retried request
//!    reuses the id and the venue does not fill it twice;
//! 5. the decision and its `decision_audit_log` row are stored in one transaction.

use std::{sync::Arc, time::Duration};

use alphapulse_domain::{
    ports::{
        Actor, Clock, Decision, DecisionAction, DecisionReason, DecisionRepo, ExchangeAccountRepo,
        MarketDataRepo, RiskLimitsRepo, RulePattern, RulesRepo, SettingsRepo, StoredPrediction,
        TradingLocks,
    },
    ExchangeClient, Market, OrderRequest, Principal, Regime, Symbol, TenantId, TextEnum,
    ValidationError,
};
use alphapulse_ensemble::{EnsembleService, Predict};
use alphapulse_hedging::execution::order_id_prefix;
use alphapulse_regime::service::RegimeService;
use chrono::{DateTime, Datelike, TimeZone, Utc};
use moka::sync::Cache;
use rust_decimal::{prelude::ToPrimitive, Decimal};
use uuid::Uuid;

use crate::{
    calibration::{self, Calibration},
    outcomes,
    policy::{self, Book, Inputs, RiskCheck},
    ConsoleError,
};

/// Decisions an ensemble's calibration is fitted on (its newest).
pub const CALIBRATION_SAMPLE: u32 = 1000;
/// Scope of the trading lock an auto-executed decision holds.
pub const LOCK_SCOPE: &str = "decision.execute";
/// Largest LLM cost one signal may report, in USD.
pub const MAX_SIGNAL_COST_USD: i64 = 1_000_000;

/// The market regime the decision is made in.
pub trait RegimeSource: Send + Sync {
    /// The tenant's current regime, `None` when it cannot be determined.
    fn current(&self, actor: &Actor) -> Option<Regime>;
}

impl RegimeSource for RegimeService {
    fn current(&self, actor: &Actor) -> Option<Regime> {
        match RegimeService::current(self, actor) {
            Ok(fitted) => Some(fitted.snapshot.current_regime),
            Err(err) => {
                tracing::info!(error = %err, "no market regime for the decision");
                None
            }
        }
    }
}

/// A fixed regime (tests, and deployments without regime detection).
#[derive(Debug, Clone, Copy)]
pub struct FixedRegime(pub Option<Regime>);

impl RegimeSource for FixedRegime {
    fn current(&self, _: &Actor) -> Option<Regime> {
        self.0
    }
}

/// A prediction request with what the decision needs besides the signals.
#[derive(Debug, Clone, PartialEq)]
pub struct PredictAndDecide {
    /// The ensemble service's input.
    pub predict: Predict,
    /// Each signal's LLM cost in USD (text, `None` for a signal without one).
    pub costs: Vec<Option<String>>,
    /// The request's `Idempotency-Key`, if any.
    pub idempotency_key: Option<String>,
}

/// The ports the desk uses.
#[derive(Clone)]
pub struct DeskPorts {
    /// Tenant settings.
    pub settings: Arc<dyn SettingsRepo>,
    /// Decisions.
    pub decisions: Arc<dyn DecisionRepo>,
    /// Rules.
    pub rules: Arc<dyn RulesRepo>,
    /// Risk limits.
    pub limits: Arc<dyn RiskLimitsRepo>,
    /// Market data (outcomes, data version).
    pub market: Arc<dyn MarketDataRepo>,
    /// The tenant's active account (venue name).
    pub accounts: Arc<dyn ExchangeAccountRepo>,
    /// The tenant's exchange.
    pub exchange: Arc<dyn ExchangeClient>,
    /// One trading action per tenant at a time.
    pub locks: Arc<dyn TradingLocks>,
    /// The market regime.
    pub regime: Arc<dyn RegimeSource>,
    /// Now.
    pub clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for DeskPorts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeskPorts").finish_non_exhaustive()
    }
}

type CalibrationKey = (TenantId, Uuid, Option<DateTime<Utc>>, i64);

/// The decision desk (share it as `Arc<DecisionDesk>`).
pub struct DecisionDesk {
    ensembles: Arc<EnsembleService>,
    ports: DeskPorts,
    calibrations: Cache<CalibrationKey, Calibration>,
}

impl std::fmt::Debug for DecisionDesk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DecisionDesk").finish_non_exhaustive()
    }
}

/// The first instant of `now`'s calendar month (UTC).
pub fn month_start(now: DateTime<Utc>) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(now.year(), now.month(), 1, 0, 0, 0)
        .single()
        .unwrap_or(now)
}

/// The sum of the signals' costs.
///
/// # Errors
/// A cost that is not an amount in `0..=MAX_SIGNAL_COST_USD` (names the signal).
pub fn total_cost(costs: &[Option<String>]) -> Result<Decimal, ConsoleError> {
    let mut total = Decimal::ZERO;
    let mut errors = Vec::new();
    for cost in costs.iter().flatten() {
        match cost.trim().parse::<Decimal>() {
            Ok(c) if c >= Decimal::ZERO && c <= Decimal::from(MAX_SIGNAL_COST_USD) => total += c,
            _ => errors.push(ValidationError::new(
                "signals[].cost_usd",
                format!("must be an amount in USD between 0 and {MAX_SIGNAL_COST_USD}"),
            )),
        }
    }
    if errors.is_empty() {
        Ok(total)
    } else {
        Err(ConsoleError::Invalid(errors))
    }
}

impl DecisionDesk {
    /// A desk over the ensemble service and the ports.
    pub fn new(ensembles: Arc<EnsembleService>, ports: DeskPorts) -> Self {
        Self {
            ensembles,
            ports,
            calibrations: Cache::builder()
                .max_capacity(10_000)
                .time_to_live(Duration::from_secs(600))
                .build(),
        }
    }

    /// Predicts with the ensemble and decides (see the module documentation).
    ///
    /// # Errors
    /// The prediction's errors (invalid signals, unknown ensemble: 422/404), an invalid cost
    /// (422), a busy trading lock (409), storage failures.
    pub fn predict_and_decide(
        &self,
        caller: &Principal,
        ensemble_id: Uuid,
        input: PredictAndDecide,
    ) -> Result<(StoredPrediction, Decision), ConsoleError> {
        let actor = caller.actor();
        let cost = total_cost(&input.costs)?;
        let prediction = self.ensembles.predict(
            &actor,
            caller.request_id.as_deref(),
            ensemble_id,
            input.predict,
        )?;
        let key = input
            .idempotency_key
            .unwrap_or_else(|| prediction.id.to_string());
        let decision = self.decide(&actor, &prediction, cost, &key)?;
        Ok((prediction, decision))
    }

    /// The calibration of an ensemble's confidence now (cached per market-data version).
    ///
    /// # Errors
    /// Storage failures.
    pub fn calibration(
        &self,
        actor: &Actor,
        ensemble_id: Uuid,
    ) -> Result<Calibration, ConsoleError> {
        let (newest, count) = self.ports.market.version(actor)?;
        let key = (actor.tenant_id, ensemble_id, newest, count);
        self.calibrations
            .try_get_with(key, || self.fit_calibration(actor, ensemble_id))
            .map_err(|e| {
                ConsoleError::Repo(alphapulse_domain::RepoError::Unavailable(format!(
                    "calibration: {e}"
                )))
            })
    }

    fn fit_calibration(&self, actor: &Actor, ensemble_id: Uuid) -> Result<Calibration, String> {
        let history = self
            .ports
            .decisions
            .ensemble_history(actor, ensemble_id, CALIBRATION_SAMPLE)
            .map_err(|e| e.to_string())?;
        let now = self.ports.clock.now();
        let closes = outcomes::closes_for(self.ports.market.as_ref(), actor, &history, now)
            .map_err(|e| e.to_string())?;
        let samples: Vec<(f64, bool)> = history
            .iter()
            .filter_map(|d| outcomes::realised(d, &closes).map(|r| (d.raw_confidence, r.hit)))
            .collect();
        let fitted = calibration::fit(&samples);
        tracing::info!(%ensemble_id, outcomes = samples.len(), calibration = ?fitted, "calibration fitted");
        Ok(fitted)
    }

    /// The tenant's book at current prices.
    fn book(&self, actor: &Actor) -> Result<Book, String> {
        let spot = self
            .ports
            .exchange
            .spot_valued(actor)
            .map_err(|e| e.to_string())?;
        let futures = self
            .ports
            .exchange
            .futures_positions(actor)
            .map_err(|e| e.to_string())?;
        let mut book = Book::default();
        for (balance, price) in spot {
            if let Some(price) = price {
                let value = balance.quantity * price;
                book.gross += value.abs();
                book.exposure.push((balance.symbol, value));
            }
        }
        for f in futures {
            let price = f.mark_price.unwrap_or(f.entry_price);
            let notional = f.quantity.abs() * price;
            book.gross += notional;
            let signed = match f.side {
                alphapulse_domain::PositionSide::Long => notional,
                alphapulse_domain::PositionSide::Short => -notional,
            };
            book.exposure.push((f.symbol, signed));
        }
        Ok(book)
    }

    fn risk(
        &self,
        actor: &Actor,
        p: &StoredPrediction,
        side: alphapulse_domain::Side,
    ) -> RiskCheck {
        let limits = match self.ports.limits.get(actor) {
            Ok(limits) => limits,
            Err(e) => return RiskCheck::Fail(format!("risk limits unavailable: {e}")),
        };
        match self.book(actor) {
            Ok(book) => {
                policy::size_and_check(&book, &p.symbol, side, p.prediction, p.price_at, &limits)
            }
            Err(e) => RiskCheck::Fail(format!("positions unavailable: {e}")),
        }
    }

    fn venue(&self, actor: &Actor, symbol: &Symbol) -> Result<String, ConsoleError> {
        let venue = self
            .ports
            .accounts
            .active(actor)?
            .map_or("none", |a| a.adapter.as_str());
        Ok(format!("{venue}:{symbol}"))
    }

    fn decide(
        &self,
        actor: &Actor,
        p: &StoredPrediction,
        cost: Decimal,
        key: &str,
    ) -> Result<Decision, ConsoleError> {
        let now = self.ports.clock.now();
        let settings = self.ports.settings.get(actor)?;
        let calibration = self.calibration(actor, p.ensemble_id).unwrap_or_else(|e| {
            tracing::warn!(error = %e, "calibration unavailable: raw confidence used");
            Calibration::Raw { outcomes: 0 }
        });
        let (calibrated_p, calibrated) = calibration.apply(p.confidence);
        let side = policy::side_of(p.prediction);
        let regime = self.ports.regime.current(actor);
        let covered = match (side, self.ports.rules.current(actor)?) {
            (Some(side), Some(rules)) => rules.covers(&RulePattern {
                symbol: p.symbol.clone(),
                side,
                ensemble_id: p.ensemble_id,
                regime,
            }),
            _ => false,
        };
        let spend = self.ports.decisions.llm_spend(actor, month_start(now))? + cost;
        let risk = side.map(|s| self.risk(actor, p, s));
        let reasons = policy::reasons(&Inputs {
            settings: &settings,
            calibrated_p,
            side,
            covered,
            spend_with_this: spend,
            risk: risk.as_ref(),
        });
        let mut decision = Decision {
            id: p.id,
            prediction_id: Some(p.id),
            ensemble_id: p.ensemble_id,
            symbol: p.symbol.clone(),
            side,
            regime,
            prediction: p.prediction,
            raw_confidence: p.confidence,
            calibrated_p,
            calibrated,
            threshold_used: settings.autopost_threshold,
            action: policy::action(side, &reasons),
            reasons,
            detail: match &risk {
                Some(RiskCheck::Fail(why)) => Some(why.clone()),
                Some(RiskCheck::Pass { weight_after, .. }) => Some(format!(
                    "{} at {:.1} % of the book after the order",
                    p.symbol,
                    weight_after * 100.0
                )),
                None => Some("flat prediction: nothing to trade".to_owned()),
            },
            vendor_normalized: self.venue(actor, &p.symbol)?,
            client_order_id: None,
            order_status: None,
            quantity: match &risk {
                Some(RiskCheck::Pass { quantity, .. }) => Some(*quantity),
                _ => None,
            },
            llm_cost_usd: cost,
            user_id: actor.user_id,
            created_at: now,
        };
        if decision.action == DecisionAction::AutoExecuted {
            if let Some(side) = side {
                self.execute(actor, p, side, key, &mut decision)?;
            }
        }
        Ok(self.ports.decisions.record(actor, &decision)?)
    }

    /// Places the decision's order under the trading lock, re-checking the risk with the book
    /// as it is once the lock is held.
    fn execute(
        &self,
        actor: &Actor,
        p: &StoredPrediction,
        side: alphapulse_domain::Side,
        key: &str,
        decision: &mut Decision,
    ) -> Result<(), ConsoleError> {
        let _guard = self.ports.locks.acquire(actor, LOCK_SCOPE)?;
        let quantity = match self.risk(actor, p, side) {
            RiskCheck::Pass { quantity, .. } => quantity,
            RiskCheck::Fail(why) => {
                decision.action = DecisionAction::Rejected;
                decision.reasons = vec![DecisionReason::RiskLimit];
                decision.detail = Some(why);
                decision.quantity = None;
                return Ok(());
            }
        };
        let order = OrderRequest {
            client_order_id: order_id_prefix(Some(key), "decision"),
            symbol: p.symbol.clone(),
            market: Market::Futures,
            side,
            quantity,
            reduce_only: false,
        };
        decision.client_order_id = Some(order.client_order_id.clone());
        decision.quantity = Some(quantity);
        match self.ports.exchange.place_order(actor, &order) {
            Ok(ack) => {
                decision.order_status = Some(ack.status);
                decision.quantity = Some(ack.filled_quantity)
                    .filter(|q| *q > Decimal::ZERO)
                    .or(Some(quantity));
                if let Some(price) = ack.avg_price {
                    decision.detail = Some(format!(
                        "{} {} {} at {}",
                        side,
                        quantity.normalize(),
                        p.symbol,
                        price.normalize()
                    ));
                }
            }
            Err(err) => {
                tracing::warn!(client_order_id = %order.client_order_id, error = %err, "decision order failed");
                decision.action = DecisionAction::Failed;
                decision.reasons = vec![DecisionReason::OrderFailed];
                decision.order_status = Some("failed".to_owned());
                decision.detail = Some(format!("order failed: {err}"));
            }
        }
        Ok(())
    }
}

/// `f64` of a decimal, for display.
pub fn to_f64(d: Decimal) -> f64 {
    d.to_f64().unwrap_or(0.0)
}
