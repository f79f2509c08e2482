//! `exchange_calls_total{venue, result}`: every call to a live venue, for the operators'
//! dashboards.

use alphapulse_domain::ExchangeError;

/// The `venue` label of Binance's calls.
pub(super) const VENUE_BINANCE: &str = "binance";

/// `exchange_calls_total{venue, result}`: every call to a live venue, `result` being `ok` or
/// the kind of failure (`unavailable`, `rate_limited`, `auth`, `rejected`, `no_price`,
/// `no_account`, `other`), for the operators' dashboards (a no-op without a recorder).
pub(super) fn record_venue_call<T>(venue: &'static str, out: &Result<T, ExchangeError>) {
    let result = match out {
        Ok(_) => "ok",
        Err(ExchangeError::Unavailable(_)) => "unavailable",
        Err(ExchangeError::RateLimited { .. }) => "rate_limited",
        Err(ExchangeError::Auth(_)) => "auth",
        Err(ExchangeError::Rejected { .. }) => "rejected",
        Err(ExchangeError::NoPrice(_)) => "no_price",
        Err(ExchangeError::NoAccount) => "no_account",
        Err(_) => "other",
    };
    metrics::counter!("exchange_calls_total", "venue" => venue, "result" => result).increment(1);
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use metrics_util::debugging::{DebugValue, DebuggingRecorder};

    use std::collections::BTreeMap;

    use super::*;

    #[test]
    fn venue_calls_are_counted_by_venue_and_result() {
        let recorder = DebuggingRecorder::new();
        let snapshotter = recorder.snapshotter();
        metrics::with_local_recorder(&recorder, || {
            record_venue_call::<()>(VENUE_BINANCE, &Ok(()));
            record_venue_call::<()>(VENUE_BINANCE, &Ok(()));
            record_venue_call::<()>(VENUE_BINANCE, &Err(ExchangeError::Auth("refused".into())));
        });
        let counts: BTreeMap<String, u64> = snapshotter
            .snapshot()
            .into_vec()
            .into_iter()
            .filter_map(|(key, _, _, value)| {
                let key = key.key();
                let labels: Vec<String> = key
                    .labels()
                    .map(|l| format!("{}={}", l.key(), l.value()))
                    .collect();
                match value {
                    DebugValue::Counter(n) if key.name() == "exchange_calls_total" => {
                        Some((labels.join(","), n))
                    }
                    _ => None,
                }
            })
            .collect();
        assert_eq!(
            counts.get("venue=binance,result=ok"),
            Some(&2),
            "{counts:?}"
        );
        assert_eq!(
            counts.get("venue=binance,result=auth"),
            Some(&1),
            "{counts:?}"
        );
    }
}
