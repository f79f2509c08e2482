//! The daily quota and the burst limit at the HTTP edge: counted per tenant, answered with
//! `X-RateLimit-*` headers, refused with 429 + `Retry-After` past the limit, one tenant's
//! quota never touching another's.

use actix_web::test::TestRequest;
use alphapulse_domain::{NewTenant, Role, Slug, SubscriptionTier};

use super::common::*;

/// A tenant whose plan allows 3 calls a day.
fn tight_tenant(app: &TestApp) -> alphapulse_domain::TenantId {
    app.repos
        .tenants
        .create(
            NewTenant {
                name: "Tight".into(),
                slug: Slug::parse("tight-fund").unwrap(),
                subscription_tier: SubscriptionTier::Starter,
                max_users: Some(5),
                max_api_calls_per_day: Some(3),
                metadata: None,
            },
            &fixture_note(),
        )
        .unwrap()
        .id
}

#[actix_web::test]
async fn with_quotas_off_nothing_is_counted_or_refused() {
    let mut settings = settings();
    settings.enforce_quotas = false;
    let app = TestApp::with_settings(&settings);
    let tight = tight_tenant(&app);
    let (_, token) = app.user_with_token(tight, "viewer@tight.example", Role::Viewer);
    let svc = test_service!(app);
    for _ in 0..5 {
        let res = call(
            &svc,
            TestRequest::get()
                .uri("/api/v1/ensemble")
                .insert_header(bearer(&token))
                .to_request(),
        )
        .await;
        assert_eq!(res.status, 200, "{:?}", res.body);
        assert_eq!(res.header("x-ratelimit-limit"), None);
    }
}

#[actix_web::test]
async fn past_the_daily_quota_requests_get_429_with_retry_after_and_headers() {
    let app = TestApp::new();
    let tight = tight_tenant(&app);
    let other = app.create_tenant("roomy-fund", 5);
    let (_, token) = app.user_with_token(tight, "viewer@tight.example", Role::Viewer);
    let (_, other_token) = app.user_with_token(other, "viewer@roomy.example", Role::Viewer);
    let svc = test_service!(app);
    let get = |t: &str| {
        TestRequest::get()
            .uri("/api/v1/ensemble")
            .insert_header(bearer(t))
            .to_request()
    };
    let mut remaining = Vec::new();
    for _ in 0..3 {
        let res = call(&svc, get(&token)).await;
        assert_eq!(res.status, 200, "{:?}", res.body);
        assert_eq!(res.header("x-ratelimit-limit"), Some("3"));
        remaining.push(res.header("x-ratelimit-remaining").unwrap().to_owned());
    }
    assert_eq!(remaining, ["2", "1", "0"]);
    let refused = call(&svc, get(&token)).await;
    assert_eq!(refused.status, 429);
    assert!(
        refused.detail().contains("Daily API quota of 3 calls"),
        "{}",
        refused.detail()
    );
    let retry: u64 = refused.header("retry-after").unwrap().parse().unwrap();
    let reset: u64 = refused
        .header("x-ratelimit-reset")
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        (1..=86_400).contains(&retry) && retry == reset,
        "{retry} {reset}"
    );
    assert_eq!(refused.header("x-ratelimit-remaining"), Some("0"));
    // A forbidden route still counts and is refused the same way (authenticated requests count).
    let write = TestRequest::post()
        .uri("/api/v1/hedging/execute")
        .insert_header(bearer(&token))
        .to_request();
    assert_eq!(call(&svc, write).await.status, 429);
    // The other tenant is untouched.
    let fine = call(&svc, get(&other_token)).await;
    assert_eq!(fine.status, 200);
    assert_eq!(fine.header("x-ratelimit-remaining"), Some("9999"));
    // Public routes carry no quota.
    let health = call(&svc, TestRequest::get().uri("/health").to_request()).await;
    assert_eq!(health.header("x-ratelimit-limit"), None);
}
