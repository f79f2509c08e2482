//! Token verification cost: HS256 and ES256, with the signature cache off (every call checks
//! the signature) and on (a repeated token skips it; expiry and claims are still checked).
//!
//! `cargo bench -p tenant-auth --bench verify`

#![allow(clippy::expect_used)] // a benchmark with bad fixtures should stop loudly

use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use tenant_auth::{KeySet, Role, TokenIssuer, TokenVerifier, VerifierConfig};
use uuid::Uuid;

fn token_and_verifiers(keys: KeySet) -> (String, TokenVerifier, TokenVerifier) {
    let issuer =
        TokenIssuer::new(keys.clone(), "alphapulse", "alphapulse-api").expect("signing key");
    let token = issuer
        .issue(
            Uuid::new_v4(),
            Uuid::new_v4(),
            Role::Trader,
            Duration::from_secs(900),
        )
        .expect("issue");
    let config = VerifierConfig::new("alphapulse", "alphapulse-api");
    let uncached = TokenVerifier::new(keys.clone(), config.clone()).with_cache_capacity(0);
    let cached = TokenVerifier::new(keys, config);
    (token, uncached, cached)
}

fn bench(c: &mut Criterion) {
    let fixtures = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");
    let read = |name: &str| std::fs::read(format!("{fixtures}/{name}")).expect("fixture");
    let sets = [
        ("hs256", KeySet::hs256("k1", [7u8; 32]).expect("key")),
        (
            "es256",
            KeySet::es256("k2", read("ec_public.pem"), read("ec_private.pem")).expect("key"),
        ),
        (
            "rs256",
            KeySet::rs256("k3", read("rsa_public.pem"), read("rsa_private.pem")).expect("key"),
        ),
    ];
    let mut group = c.benchmark_group("verify");
    for (name, keys) in sets {
        let (token, uncached, cached) = token_and_verifiers(keys);
        group.bench_function(format!("{name}/uncached"), |b| {
            b.iter(|| {
                uncached
                    .verify(std::hint::black_box(&token))
                    .expect("valid")
            })
        });
        group.bench_function(format!("{name}/cached"), |b| {
            b.iter(|| cached.verify(std::hint::black_box(&token)).expect("valid"))
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(Duration::from_secs(3)).warm_up_time(Duration::from_secs(1));
    targets = bench
}
criterion_main!(benches);
