//! Times `RegimeModel::fit` on three years of synthetic daily candles with five states.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use alphapulse_domain::Symbol;
use alphapulse_regime::{synthetic, ModelConfig, RegimeModel};
use chrono::{TimeZone, Utc};
use criterion::{criterion_group, criterion_main, Criterion};

fn fit(c: &mut Criterion) {
    let symbol = Symbol::parse("BTCUSDT").unwrap();
    let start = Utc.with_ymd_and_hms(2021, 1, 1, 0, 0, 0).unwrap();
    let config = ModelConfig::default();
    // Warm-up days on top of the three-year window so that the window is full.
    let days = config.lookback_days + config.features.warmup();
    let (candles, _) = synthetic::regime_switching_walk(11, &symbol, days, 30_000.0, start);
    let universe = vec![(1.0, candles)];
    let mut group = c.benchmark_group("regime");
    group.sample_size(10);
    group.bench_function("fit_3y_5_states_8_restarts", |b| {
        b.iter(|| RegimeModel::fit(std::hint::black_box(&universe), &config).unwrap())
    });
    group.finish();
}

criterion_group!(benches, fit);
criterion_main!(benches);
