//! Helpers shared by the persistence tests.

use alphapulse_domain::{
    ports::TenantRepo, AuditNote, NewTenant, Slug, SubscriptionTier, TenantId,
};
use alphapulse_persistence::{testing::TestDb, PgTenantRepo};

/// The audit note of a fixture write (no user, `source: test`).
pub fn note(action: &str) -> AuditNote {
    AuditNote {
        user_id: None,
        action: action.to_owned(),
        request_id: None,
        details: serde_json::json!({ "source": "test" }),
    }
}

/// A new tenant of the starter plan (a fixture: any failure is the test's).
pub fn tenant(t: &mut TestDb, slug: &str) -> TenantId {
    let new = NewTenant {
        name: slug.to_owned(),
        slug: Slug::parse(slug).expect("fixture slug"),
        subscription_tier: SubscriptionTier::Starter,
        max_users: None,
        max_api_calls_per_day: None,
        metadata: None,
    };
    PgTenantRepo::new(t.db())
        .create(new, &note("test.write"))
        .expect("fixture tenant")
        .id
}

/// A current-thread runtime with I/O and time, for the async reads under test.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a test runtime")
}
