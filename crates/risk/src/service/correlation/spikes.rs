//! Correlation alerts: spikes of the holdings' rolling correlation and concentration findings.

#[allow(clippy::wildcard_imports)]
use super::*;

impl CorrelationService {
    /// Pairs of holdings whose 30-day correlation crossed `threshold` within the last 30
    /// days, and concentration findings; each raises a `correlation` alert (deduplicated).
    ///
    /// # Errors
    /// 422 for a threshold outside [0, 1] or fewer than 31 aligned returns of the holdings
    /// (two windows of 30 days); the exchange's and storage failures.
    pub fn alerts(&self, actor: &Actor, threshold: f64) -> Result<CorrelationAlerts, ServiceError> {
        if !(threshold.is_finite() && (0.0..=1.0).contains(&threshold)) {
            return Err(ServiceError::invalid(
                "threshold",
                "must be between 0 and 1",
            ));
        }
        let book = self.core.book(actor)?;
        let symbols: Vec<Symbol> = book.net_by_symbol().into_keys().collect();
        let mut spikes = Vec::new();
        let lookback = 2 * ALERT_WINDOW;
        if symbols.len() >= 2 {
            let limit = u32::try_from(lookback + 1).unwrap_or(u32::MAX);
            let closes = closes(&self.core.ports, actor, &symbols, limit)?;
            let aligned = aligned_returns(
                &closes,
                &symbols,
                lookback,
                ALERT_WINDOW + 1,
                "threshold",
                false,
            )?;
            for i in 0..symbols.len() {
                for j in i + 1..symbols.len() {
                    let rolling = rolling_correlation(
                        &aligned.series[i],
                        &aligned.series[j],
                        ALERT_WINDOW,
                        CorrelationMethod::Pearson,
                    )?;
                    if let Some(spike) = spike(&rolling, threshold) {
                        spikes.push(CorrelationSpike {
                            symbol1: symbols[i].clone(),
                            symbol2: symbols[j].clone(),
                            correlation: spike.0,
                            previous_correlation: spike.1,
                            crossed_on: aligned.dates[spike.2 + ALERT_WINDOW - 1],
                        });
                    }
                }
            }
        }
        let mut concentration_alerts = Vec::new();
        match concentration_of(
            &self.core,
            actor,
            &book,
            crate::service::DEFAULT_LOOKBACK_DAYS,
        ) {
            Ok(c) => {
                if let Some(score) = c.concentration_score.filter(|s| *s > CONCENTRATION_ALERT) {
                    if c.symbols.len() >= 2 {
                        concentration_alerts.push(ConcentrationAlert {
                            kind: "concentration_score",
                            message: format!(
                                "one source carries most of the risk: concentration {score:.2} \
                                 ({:.1} effective assets of {})",
                                c.effective_assets.unwrap_or(0.0),
                                c.symbols.len()
                            ),
                            value: score,
                            threshold: CONCENTRATION_ALERT,
                        });
                    }
                }
                for p in c
                    .high_correlation_pairs
                    .iter()
                    .filter(|p| p.correlation.abs() > threshold)
                {
                    concentration_alerts.push(ConcentrationAlert {
                        kind: "high_correlation_pair",
                        message: format!(
                            "{} and {} move together (correlation {:.2}) and weigh {:.1}% together",
                            p.symbol1,
                            p.symbol2,
                            p.correlation,
                            (p.weight1.abs() + p.weight2.abs()) * 100.0
                        ),
                        value: p.correlation.abs(),
                        threshold,
                    });
                }
            }
            Err(ServiceError::TooFewObservations { .. }) => {}
            Err(e) => return Err(e),
        }
        for s in &spikes {
            self.core.raise(
                actor,
                alert(
                    AlertSource::Correlation,
                    AlertSeverity::Warning,
                    format!("correlation:spike:{}:{}", s.symbol1, s.symbol2),
                    format!("Correlation spike: {} / {}", s.symbol1, s.symbol2),
                    format!(
                        "the 30-day correlation of {} and {} rose to {:.2} (from {:.2}), above {:.2}",
                        s.symbol1, s.symbol2, s.correlation, s.previous_correlation, threshold
                    ),
                    vec![s.symbol1.to_string(), s.symbol2.to_string()],
                ),
            );
        }
        for c in &concentration_alerts {
            self.core.raise(
                actor,
                alert(
                    AlertSource::Correlation,
                    AlertSeverity::Warning,
                    format!("correlation:{}", c.kind),
                    "Portfolio risk is concentrated".to_owned(),
                    c.message.clone(),
                    vec![c.kind.to_owned()],
                ),
            );
        }
        Ok(CorrelationAlerts {
            threshold,
            window_days: ALERT_WINDOW,
            correlation_spike_alerts: spikes,
            concentration_alerts,
            last_check: self.core.now(),
        })
    }
}

/// `(now, lowest |ρ| before, index of the first window above)` when the last value is above
/// `threshold` in absolute value and an earlier one was at or below it.
pub(crate) fn spike(rolling: &[Option<f64>], threshold: f64) -> Option<(f64, f64, usize)> {
    let now = (*rolling.last()?)?;
    if now.abs() <= threshold {
        return None;
    }
    let below = rolling
        .iter()
        .enumerate()
        .rev()
        .skip(1)
        .find(|(_, r)| r.is_some_and(|r| r.abs() <= threshold))?;
    let lowest = rolling[..=below.0]
        .iter()
        .flatten()
        .map(|r| r.abs())
        .fold(f64::INFINITY, f64::min);
    Some((now, lowest, below.0 + 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_spike_is_a_crossing_into_the_band_above_the_threshold() {
        // Below 0.8 until window 2, above from window 3 on: crossed at index 3.
        let r = [Some(0.5), Some(0.6), Some(0.79), Some(0.85), Some(0.9)];
        assert_eq!(spike(&r, 0.8), Some((0.9, 0.5, 3)));
        // Always above: no crossing in the window.
        assert_eq!(spike(&[Some(0.9), Some(0.95)], 0.8), None);
        // Below now: nothing.
        assert_eq!(spike(&[Some(0.9), Some(0.5)], 0.8), None);
        // A negative correlation counts by its size.
        assert_eq!(spike(&[Some(-0.2), Some(-0.9)], 0.8), Some((-0.9, 0.2, 1)));
        assert_eq!(spike(&[None, Some(0.9)], 0.8), None);
    }
}
