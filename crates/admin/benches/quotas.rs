//! The per-request cost of the quota and burst check (`Quotas::admit`): what every
//! authorised request pays on top of its own work. Compare with the request's cost in
//! docs/benchmarks.md (`cargo bench -p alphapulse-admin --bench quotas`).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::{num::NonZeroU32, sync::Arc};

use alphapulse_admin::{Bucket, BurstLimits, Quotas};
use alphapulse_domain::{
    ports::{MockTenantRepo, MockUsageRepo, SystemClock},
    Slug, SubscriptionTier, Tenant, TenantId, TenantStatus,
};
use chrono::Utc;
use criterion::{black_box, criterion_group, criterion_main, Criterion};

fn row(id: TenantId) -> Tenant {
    Tenant {
        id,
        name: "bench".into(),
        slug: Slug::parse("bench-tenant").unwrap(),
        subscription_tier: SubscriptionTier::Enterprise,
        status: TenantStatus::Active,
        max_users: 5,
        max_api_calls_per_day: i32::MAX,
        created_at: Utc::now(),
        updated_at: Utc::now(),
        metadata: serde_json::json!({}),
    }
}

/// A limiter with `n` tenants loaded, none of them ever limited during the bench.
fn limiter(n: usize) -> (Quotas, Vec<TenantId>) {
    let ids: Vec<TenantId> = (0..n).map(|_| TenantId(uuid::Uuid::new_v4())).collect();
    let mut tenants = MockTenantRepo::new();
    tenants.expect_get().returning(|id| Ok(row(id)));
    let mut usage = MockUsageRepo::new();
    usage.expect_total().returning(|_, _| Ok(0));
    let roomy = Bucket {
        per_second: NonZeroU32::MAX,
        burst: NonZeroU32::MAX,
    };
    let quotas = Quotas::new(
        Arc::new(usage),
        Arc::new(tenants),
        Arc::new(SystemClock),
        BurstLimits {
            starter: roomy,
            pro: roomy,
            enterprise: roomy,
        },
    );
    for id in &ids {
        quotas.load(*id).unwrap();
    }
    (quotas, ids)
}

fn admit(c: &mut Criterion) {
    let (one, ids) = limiter(1);
    c.bench_function("admit/1 tenant", |b| {
        b.iter(|| black_box(one.admit(black_box(ids[0])).unwrap()));
    });
    let (many, ids) = limiter(50);
    let mut next = ids.iter().cycle();
    c.bench_function("admit/50 tenants in turn", |b| {
        b.iter(|| black_box(many.admit(black_box(*next.next().unwrap())).unwrap()));
    });
}

criterion_group!(benches, admit);
criterion_main!(benches);
