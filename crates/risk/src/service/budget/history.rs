//! The budget's daily history and the budget of each regime.

#[allow(clippy::wildcard_imports)]
use super::*;

impl BudgetService {
    /// The budget's daily history over the last `days` (1..=365): utilisation, leverage and
    /// realised volatility from the daily portfolio snapshots, the budget version and regime
    /// of each day.
    ///
    /// # Errors
    /// 422 for `days` out of range; storage failures.
    pub fn history(&self, actor: &Actor, days: i64) -> Result<BudgetHistory, ServiceError> {
        if !(HISTORY_DAYS.0..=HISTORY_DAYS.1).contains(&days) {
            return Err(ServiceError::invalid(
                "days",
                format!("must be between {} and {}", HISTORY_DAYS.0, HISTORY_DAYS.1),
            ));
        }
        let now = self.core.now();
        let since = now - Duration::days(days);
        let ports = &self.core.ports;
        let trailing = i64::try_from(HISTORY_VOLATILITY_DAYS).unwrap_or(30);
        let snapshots = ports
            .snapshots
            .daily(actor, since - Duration::days(trailing))?;
        let versions = ports.budgets.versions_since(actor, since)?;
        let history_days = u32::try_from(days + 1).unwrap_or(u32::MAX);
        let regimes = ports.regimes.history(actor, history_days)?;
        let regime_on: BTreeMap<NaiveDate, Regime> =
            regimes.iter().map(|d| (d.date, d.regime)).collect();
        let values: Vec<f64> = snapshots.iter().map(|s| to_f64(s.total_value)).collect();
        let mut points = Vec::new();
        for (i, s) in snapshots.iter().enumerate() {
            if s.taken_at < since {
                continue;
            }
            let budget = versions.iter().rev().find(|b| b.created_at <= s.taken_at);
            let start = i.saturating_sub(HISTORY_VOLATILITY_DAYS);
            let window = &values[start..=i];
            let volatility = crate::returns::simple_returns(window)
                .ok()
                .filter(|r| r.len() >= 2)
                .and_then(|r| {
                    crate::ratios::annualised_volatility(&r, CRYPTO_PERIODS_PER_YEAR).ok()
                });
            points.push(BudgetSnapshotPoint {
                timestamp: s.taken_at,
                budget_version: budget.map(|b| b.version),
                total_budget: budget.map(|b| b.total_budget),
                gross_exposure: s.gross_exposure,
                utilization: match (budget, s.gross_exposure) {
                    (Some(b), Some(g)) => share(g, b.total_budget),
                    _ => None,
                },
                leverage: s.gross_exposure.and_then(|g| share(g, s.total_value)),
                volatility,
                regime: regime_on.get(&s.taken_at.date_naive()).copied(),
            });
        }
        let in_window: Vec<&RegimeDay> = regimes
            .iter()
            .filter(|d| d.date >= since.date_naive())
            .collect();
        let regime_changes: Vec<RegimeTransition> = in_window
            .windows(2)
            .filter(|w| w[0].regime != w[1].regime)
            .map(|w| RegimeTransition {
                from_regime: w[0].regime,
                to_regime: w[1].regime,
                date: w[1].date,
            })
            .collect();
        let stat = |f: fn(&BudgetSnapshotPoint) -> Option<f64>| -> (Option<f64>, Option<f64>) {
            let v: Vec<f64> = points.iter().filter_map(f).collect();
            if v.is_empty() {
                (None, None)
            } else {
                (
                    Some(v.iter().sum::<f64>() / v.len() as f64),
                    v.iter().copied().reduce(f64::max),
                )
            }
        };
        let (avg_utilization, max_utilization) = stat(|p| p.utilization);
        let (avg_leverage, max_leverage) = stat(|p| p.leverage);
        let (avg_volatility, _) = stat(|p| p.volatility);
        Ok(BudgetHistory {
            days,
            performance_metrics: BudgetPerformance {
                avg_utilization,
                max_utilization,
                avg_leverage,
                max_leverage,
                avg_volatility,
                rebalances: versions.iter().filter(|b| b.created_at >= since).count(),
                regime_changes: regime_changes.len(),
            },
            snapshots: points,
            regime_changes,
        })
    }

    /// The budget for one of the five regimes, from the tenant's portfolio value and limits.
    ///
    /// # Errors
    /// 404 listing the regimes for another name; the exchange's and storage failures.
    pub fn regime_budget(
        &self,
        actor: &Actor,
        regime: &str,
    ) -> Result<RegimeBudgetView, ServiceError> {
        let regime = Regime::parse_field(regime)
            .map_err(|_| ServiceError::UnknownRegime(regime.chars().take(40).collect()))?;
        let limits = self.core.limits(actor)?;
        let book = self.core.book(actor)?;
        let base = base_budget(&book, &limits);
        let b = regime_budget(
            regime,
            &BaseBudget {
                total_budget: base,
                volatility_target: limits.target_volatility,
                leverage_limit: limits.max_leverage,
            },
        )?;
        let current = RiskCore::regime_of(&self.core.current_regime(actor)?) == Some(regime);
        Ok(RegimeBudgetView {
            regime,
            current,
            base_budget: base,
            total_budget: b.total_budget,
            volatility_target: b.volatility_target,
            leverage_limit: b.leverage_limit,
            concentration_limit: b.concentration_limit,
            allocation_method: b.allocation_method,
            scaling: RegimeFactors {
                budget: b.scaling.budget,
                volatility_target: b.scaling.volatility_target,
                leverage: b.scaling.leverage.min(1.0),
            },
            description: b.description,
        })
    }
}
