//! A tenant's risk limits: defaults until set, stored with their audit row, invisible to
//! other tenants, ranges enforced.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use alphapulse_domain::{
    ports::{Actor, AuditRepo, RiskLimits, RiskLimitsRepo},
    PageRequest, RepoError, TenantId,
};
use alphapulse_persistence::{testing::TestDb, PgAuditRepo, PgRiskLimitsRepo, PgTenantRepo};

use crate::common::note;

fn tenant(t: &mut TestDb, slug: &str) -> TenantId {
    use alphapulse_domain::{ports::TenantRepo, NewTenant, Slug, SubscriptionTier};
    PgTenantRepo::new(t.db())
        .create(
            NewTenant {
                name: slug.to_owned(),
                slug: Slug::parse(slug).unwrap(),
                subscription_tier: SubscriptionTier::Pro,
                max_users: None,
                max_api_calls_per_day: None,
                metadata: None,
            },
            &note("test.write"),
        )
        .unwrap()
        .id
}

#[test]
fn defaults_until_set_then_stored_per_tenant_with_audit() {
    let mut t = TestDb::new();
    let (a, b) = (tenant(&mut t, "tenant-a"), tenant(&mut t, "tenant-b"));
    let repo = PgRiskLimitsRepo::new(t.db());
    assert_eq!(repo.get(&Actor::system(a)).unwrap(), RiskLimits::default());
    let wanted = RiskLimits {
        max_position_weight: 0.1,
        max_leverage: 2.0,
        ..RiskLimits::default()
    };
    let stored = repo
        .set(&Actor::system(a), &wanted, &note("risk.limits.update"))
        .unwrap();
    assert_eq!(
        (
            stored.max_position_weight,
            stored.max_leverage,
            stored.max_drawdown
        ),
        (0.1, 2.0, 0.25)
    );
    assert!(stored.updated_at.is_some());
    assert_eq!(repo.get(&Actor::system(a)).unwrap(), stored);
    // B still has the defaults.
    assert_eq!(repo.get(&Actor::system(b)).unwrap(), RiskLimits::default());
    let audit = PgAuditRepo::new(t.db())
        .list(&Actor::system(a), &PageRequest::default())
        .unwrap();
    assert_eq!(audit.items[0].action, "risk.limits.update");
    // Out of range: refused, nothing stored.
    let bad = RiskLimits {
        max_leverage: 0.5,
        ..wanted
    };
    assert!(matches!(
        repo.set(&Actor::system(a), &bad, &note("risk.limits.update")),
        Err(RepoError::Invalid(e)) if e.field == "max_leverage"
    ));
    assert_eq!(repo.get(&Actor::system(a)).unwrap(), stored);
}
