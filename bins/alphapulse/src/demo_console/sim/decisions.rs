//! One simulated day's decision of a pilot: the policy applied to an ensemble's prediction,
//! its outcome and its audit row.

#[allow(clippy::wildcard_imports)]
use super::*;

impl Pilot {
    pub(super) fn decide(
        &self,
        run: &mut Run,
        symbol: &Symbol,
        ensemble: Uuid,
        at: DateTime<Utc>,
    ) -> Result<()> {
        let closes = &run.closes[symbol];
        let ret = |days: i64| -> Option<f64> {
            let mut acc = 1.0;
            for k in 1..=days {
                acc *= 1.0 + closes.realised_return(at - Duration::days(k + 1))?;
            }
            Some(acc - 1.0)
        };
        let momentum = ret(5).unwrap_or(0.0);
        let trend = ret(20).unwrap_or(0.0);
        let noise: f64 = run.rng.gen_range(-0.25..0.25);
        let prediction = ((momentum * 12.0).tanh() * 0.75 + noise).clamp(-1.0, 1.0);
        let prediction = if prediction.abs() < 0.02 {
            0.05_f64.copysign(prediction + 1e-9)
        } else {
            prediction
        };
        let confidence =
            (0.55 + 0.38 * prediction.abs() + run.rng.gen_range(0.0..0.08)).clamp(0.5, 0.99);
        let regime = if trend > 0.04 {
            Some(Regime::Bull)
        } else if trend < -0.04 {
            Some(Regime::Bear)
        } else {
            Some(Regime::Sideways)
        };
        // Calibrated on this tenant's earlier outcomes known by then.
        let samples: Vec<(f64, bool)> = run
            .history
            .iter()
            .filter(|d| d.ensemble_id == ensemble && d.created_at + Duration::days(2) <= at)
            .filter_map(|d| realised(d, &run.closes).map(|r| (d.raw_confidence, r.hit)))
            .collect();
        let (calibrated_p, calibrated) = calibration::fit(&samples).apply(confidence);
        let side = policy::side_of(prediction);
        let current = self.rules.current(&run.actor).context("reading rules")?;
        let covered = match (side, &current) {
            (Some(side), Some(rules)) => rules.covers(&RulePattern {
                symbol: symbol.clone(),
                side,
                ensemble_id: ensemble,
                regime,
            }),
            _ => false,
        };
        let cost = dec(run.rng.gen_range(0.004..0.09));
        let month = alphapulse_console::decisions::month_start(at);
        let spend: Decimal = run
            .history
            .iter()
            .filter(|d| d.created_at >= month)
            .map(|d| d.llm_cost_usd)
            .sum::<Decimal>()
            + cost;
        let quantity = dec(5_000.0 * prediction.abs() / 100.0);
        let risk = side.map(|_| {
            if run.rng.gen_bool(0.06) {
                RiskCheck::Fail(format!(
                    "{symbol} would be {:.1} % of the book, above the 20.0 % limit",
                    run.rng.gen_range(20.5..31.0)
                ))
            } else {
                RiskCheck::Pass {
                    quantity,
                    weight_after: run.rng.gen_range(0.04..0.19),
                }
            }
        });
        let reasons = policy::reasons(&Inputs {
            settings: &run.settings,
            calibrated_p,
            side,
            covered,
            spend_with_this: spend,
            risk: risk.as_ref(),
        });
        let action = policy::action(side, &reasons);
        let id = Uuid::new_v4();
        let auto = action == DecisionAction::AutoExecuted;
        let decision = Decision {
            id,
            prediction_id: None,
            ensemble_id: ensemble,
            symbol: symbol.clone(),
            side,
            regime,
            prediction,
            raw_confidence: confidence,
            calibrated_p,
            calibrated,
            threshold_used: run.settings.autopost_threshold,
            action,
            reasons,
            detail: match &risk {
                Some(RiskCheck::Fail(why)) => Some(why.clone()),
                Some(RiskCheck::Pass { weight_after, .. }) => Some(format!(
                    "{symbol} at {:.1} % of the book after the order",
                    weight_after * 100.0
                )),
                None => Some("flat prediction: nothing to trade".to_owned()),
            },
            vendor_normalized: format!("paper:{symbol}"),
            client_order_id: auto.then(|| order_id_prefix(Some(&id.to_string()), "decision")),
            order_status: auto.then(|| "filled".to_owned()),
            quantity: matches!(risk, Some(RiskCheck::Pass { .. }))
                .then_some(quantity)
                .filter(|q| *q > Decimal::ZERO),
            llm_cost_usd: cost,
            user_id: None,
            created_at: at,
        };
        let stored = self
            .decisions
            .record(&run.actor, &decision)
            .context("recording a demo decision")?;
        run.history.push(stored);
        run.counts.decisions += 1;
        Ok(())
    }
}
