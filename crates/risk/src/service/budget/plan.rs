//! What a rebalance would do now: triggers, targets per view and the entities' covariances.

#[allow(clippy::wildcard_imports)]
use super::*;

/// Each budget view's covariance matrix of its entities' daily returns.
type CovariancesByView = BTreeMap<BudgetEntityType, Vec<Vec<f64>>>;

impl BudgetService {
    pub(super) fn plan(&self, actor: &Actor, force: bool) -> Result<Plan, ServiceError> {
        let current = self.core.ports.budgets.current(actor)?;
        let limits = self.core.limits(actor)?;
        let regime = self.core.current_regime(actor)?;
        let book = self.core.book(actor)?;
        let base = base_budget(&book, &limits);
        let known = RiskCore::regime_of(&regime);
        let (total, volatility_target, leverage_limit, method) = match known {
            Some(r) => {
                let b = regime_budget(
                    r,
                    &BaseBudget {
                        total_budget: base,
                        volatility_target: limits.target_volatility,
                        leverage_limit: limits.max_leverage,
                    },
                )?;
                (
                    b.total_budget,
                    b.volatility_target,
                    b.leverage_limit,
                    regime_scaling(r).allocation_method,
                )
            }
            None => (
                base,
                limits.target_volatility,
                limits.max_leverage,
                current
                    .as_ref()
                    .and_then(|b| AllocationMethod::parse(&b.allocation_method))
                    .unwrap_or(AllocationMethod::EqualWeight),
            ),
        };
        let entities = current
            .as_ref()
            .map(entities_of)
            .filter(|e| !e.is_empty())
            .unwrap_or_else(default_entities);
        let (used, _) = utilized(&entities, &book);
        let mut notes = Vec::new();
        let covariances = self.entity_covariances(actor, &book, &entities, method, &mut notes)?;
        let method_used = if covariances.is_none() && needs_covariance(method) {
            AllocationMethod::EqualWeight
        } else {
            method
        };
        let mut targets = vec![Decimal::ZERO; entities.len()];
        let mut changes = Vec::new();
        let mut proposals = Vec::new();
        for view in VIEWS {
            let idx: Vec<usize> = (0..entities.len())
                .filter(|i| entities[*i].1 == view)
                .collect();
            if idx.is_empty() {
                continue;
            }
            let allocations: Vec<Allocation> = idx
                .iter()
                .map(|&i| Allocation {
                    entity: entities[i].0.clone(),
                    entity_type: view,
                    allocated_amount: current
                        .as_ref()
                        .and_then(|b| b.allocations.get(i))
                        .map_or(Decimal::ZERO, |a| a.allocated_amount),
                    utilized_amount: used[i],
                })
                .collect();
            let utilised: Vec<f64> = idx.iter().map(|&i| to_f64(used[i])).collect();
            let cov = covariances.as_ref().and_then(|c| c.get(&view));
            let inputs = TargetInputs {
                covariance: cov.map(Vec::as_slice),
                budgets: Some(&utilised),
            };
            // A zero total still needs shares: plan against one unit, amounts are zero.
            let plan_total = if total > Decimal::ZERO {
                total
            } else {
                Decimal::ONE
            };
            let proposal = match rebalance(
                &allocations,
                plan_total,
                method_used,
                inputs,
                DRIFT_THRESHOLD,
            ) {
                Ok(p) => p,
                Err(e) => {
                    notes.push(format!(
                        "{} targets fall back to equal weights ({e})",
                        view.as_str()
                    ));
                    rebalance(
                        &allocations,
                        plan_total,
                        AllocationMethod::EqualWeight,
                        TargetInputs::default(),
                        DRIFT_THRESHOLD,
                    )?
                }
            };
            for (k, c) in proposal.changes.iter().enumerate() {
                let amount = if total > Decimal::ZERO {
                    c.target_amount
                } else {
                    Decimal::ZERO
                };
                targets[idx[k]] = amount;
                changes.push(AllocationChange {
                    entity: c.entity.clone(),
                    entity_type: view,
                    current_amount: c.current_amount,
                    target_amount: amount,
                    change: amount - c.current_amount,
                    current_share: c.current_share,
                    target_share: c.target_share,
                    drift: c.drift,
                });
            }
            proposals.push((view, proposal));
        }
        let mut triggers = Vec::new();
        let mut overused = false;
        match &current {
            None => triggers.push("the tenant has no risk budget yet".to_owned()),
            Some(b) => {
                if force {
                    triggers.push("forced".to_owned());
                }
                if let (Some(now), Some(then)) = (known, b.regime) {
                    if now != then {
                        triggers.push(format!("the regime changed from {then} to {now}"));
                    }
                } else if known.is_some() && b.regime.is_none() {
                    triggers.push(format!(
                        "the regime is now known ({})",
                        known.map_or("", |r| r.as_str())
                    ));
                }
                let moved = if b.total_budget.is_zero() {
                    !total.is_zero()
                } else {
                    share((total - b.total_budget).abs(), b.total_budget)
                        .is_none_or(|m| m > TOTAL_MOVE_TRIGGER)
                };
                if moved {
                    triggers.push(format!(
                        "the total budget moved from {} to {}",
                        b.total_budget.normalize(),
                        total.normalize()
                    ));
                }
                let used_total = used_by_views(&entities, &used);
                let over = if b.total_budget.is_zero() {
                    !used_total.is_zero()
                } else {
                    share(used_total, b.total_budget).is_none_or(|u| u > OVERUSE_TRIGGER)
                };
                if over {
                    overused = true;
                    triggers.push(format!(
                        "utilisation {} is above {:.0}% of the budget",
                        used_total.normalize(),
                        OVERUSE_TRIGGER * 100.0
                    ));
                }
                for (view, p) in &proposals {
                    if p.requires_rebalancing {
                        triggers.push(format!("{}: {}", view.as_str(), p.reason));
                    }
                }
            }
        }
        if method_used != method {
            notes.push(format!(
                "{} targets need every entity's returns; equal weights used instead",
                method.as_str()
            ));
        }
        Ok(Plan {
            current,
            regime,
            method: method_used,
            total,
            volatility_target,
            leverage_limit,
            entities,
            targets: targets
                .into_iter()
                .map(|t| t.round_dp(SIZE_DECIMALS))
                .collect(),
            changes,
            proposals,
            triggers,
            overused,
            notes,
        })
    }

    /// Each view's covariance of its entities' daily returns, when the method needs one and
    /// every entity has positions with enough history; `None` otherwise (with a note).
    fn entity_covariances(
        &self,
        actor: &Actor,
        book: &Book,
        entities: &[(String, BudgetEntityType, EntityScope)],
        method: AllocationMethod,
        notes: &mut Vec<String>,
    ) -> Result<Option<CovariancesByView>, ServiceError> {
        if book.positions.is_empty() {
            return Ok(None);
        }
        let symbols: Vec<Symbol> = book.net_by_symbol().into_keys().collect();
        if symbols.is_empty() {
            return Ok(None);
        }
        let limit = u32::try_from(BUDGET_LOOKBACK_DAYS + 1).unwrap_or(u32::MAX);
        let closes = closes(&self.core.ports, actor, &symbols, limit)?;
        let aligned = match aligned_returns(
            &closes,
            &symbols,
            BUDGET_LOOKBACK_DAYS,
            MIN_OBSERVATIONS,
            "lookback_days",
            false,
        ) {
            Ok(a) => a,
            Err(ServiceError::TooFewObservations { subject, have, .. }) => {
                if needs_covariance(method) {
                    notes.push(format!(
                        "{subject} has {have} daily returns, too few for the entities' covariance"
                    ));
                }
                return Ok(None);
            }
            Err(e) => return Err(e),
        };
        let column: BTreeMap<&Symbol, &Vec<f64>> =
            aligned.keys.iter().zip(&aligned.series).collect();
        let n = aligned.observations();
        let mut out = BTreeMap::new();
        for view in VIEWS {
            let idx: Vec<usize> = (0..entities.len())
                .filter(|i| entities[*i].1 == view)
                .collect();
            let mut series = Vec::new();
            for &e in &idx {
                let members: Vec<&BookPosition> = book
                    .positions
                    .iter()
                    .filter(|p| entity_of(entities, view, p) == Some(e))
                    .collect();
                let gross: f64 = members.iter().map(|p| to_f64(p.market_value().abs())).sum();
                if gross <= 0.0 {
                    if needs_covariance(method) {
                        notes.push(format!(
                            "{} {} has no position to estimate its risk from",
                            view.as_str(),
                            entities[e].0
                        ));
                    }
                    return Ok(None);
                }
                let mut r = vec![0.0; n];
                for p in members {
                    let w = to_f64(p.market_value()) / gross;
                    if let Some(col) = column.get(&p.symbol) {
                        for (t, x) in col.iter().enumerate() {
                            r[t] += w * x;
                        }
                    }
                }
                series.push(r);
            }
            if !series.is_empty() {
                out.insert(view, covariance_matrix(&series)?);
            }
        }
        Ok(Some(out))
    }
}

fn needs_covariance(method: AllocationMethod) -> bool {
    matches!(
        method,
        AllocationMethod::EqualRisk | AllocationMethod::InverseVolatility
    )
}
