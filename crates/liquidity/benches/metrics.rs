//! Times the liquidity metrics over one year (252 bars) of synthetic daily candles.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;

use alphapulse_liquidity::{
    assess_position, compute_metrics, history, plan_execution, synthetic, ExecutionParams,
    LiquidityParams, MetricsConfig, Urgency,
};
use chrono::NaiveDate;
use criterion::{criterion_group, criterion_main, Criterion};

fn metrics(c: &mut Criterion) {
    let start = NaiveDate::from_ymd_opt(2024, 1, 1).unwrap();
    let bars = synthetic::with_spread(42, start, 252, 30_000.0, 0.03, 0.001, 2_000.0);
    let full_year = MetricsConfig {
        window: 252,
        ..MetricsConfig::default()
    };
    let monthly = MetricsConfig::default();
    let market = compute_metrics(&bars, &monthly).unwrap().conditions();
    let mut group = c.benchmark_group("liquidity");
    group.bench_function("metrics_252_bars", |b| {
        b.iter(|| compute_metrics(black_box(&bars), &full_year).unwrap())
    });
    group.bench_function("history_30_days_window_30", |b| {
        b.iter(|| history(black_box(&bars), &monthly, 30).unwrap())
    });
    group.bench_function("assess_and_plan", |b| {
        b.iter(|| {
            let a = assess_position(
                black_box(150.0),
                30_000.0,
                &market,
                &LiquidityParams::default(),
            );
            let p = plan_execution(
                black_box(150.0),
                &market,
                Urgency::Normal,
                0.01,
                &ExecutionParams::default(),
            );
            (a.unwrap(), p.unwrap())
        })
    });
    group.finish();
}

criterion_group!(benches, metrics);
criterion_main!(benches);
