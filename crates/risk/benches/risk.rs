//! Times the heavy risk calculations at the sizes the API uses: Monte Carlo VaR with 10 000
//! draws, and 10 × 10 Kendall and Pearson matrices over 252 daily returns.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;

use alphapulse_risk::correlation::{correlation_matrix, CorrelationMethod};
use alphapulse_risk::var::{monte_carlo, MonteCarloConfig};
use criterion::{criterion_group, criterion_main, Criterion};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Ten correlated return series of 252 days: a common factor plus noise.
fn returns(k: usize, n: usize) -> Vec<Vec<f64>> {
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let market: Vec<f64> = (0..n).map(|_| rng.gen_range(-0.03..0.03)).collect();
    (0..k)
        .map(|i| {
            let beta = 0.5 + i as f64 / k as f64;
            market
                .iter()
                .map(|m| beta * m + rng.gen_range(-0.02..0.02))
                .collect()
        })
        .collect()
}

fn benches(c: &mut Criterion) {
    let mut group = c.benchmark_group("risk");
    let config = MonteCarloConfig {
        simulations: 10_000,
        seed: 42,
    };
    group.bench_function("monte_carlo_var_10k", |b| {
        b.iter(|| monte_carlo(black_box(0.001), black_box(0.02), 0.95, config).unwrap())
    });
    let series = returns(10, 252);
    group.bench_function("kendall_matrix_10x10_252", |b| {
        b.iter(|| correlation_matrix(black_box(&series), CorrelationMethod::Kendall).unwrap())
    });
    group.bench_function("pearson_matrix_10x10_252", |b| {
        b.iter(|| correlation_matrix(black_box(&series), CorrelationMethod::Pearson).unwrap())
    });
    group.finish();
}

criterion_group!(risk, benches);
criterion_main!(risk);
