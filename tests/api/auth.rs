//! Login (JSON and OAuth2 form), and what the extractor does with bad tokens on the real app.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::common::*;
use actix_web::test::TestRequest;
use alphapulse_domain::{Role, TenantPatch, TenantStatus};
use base64::Engine as _;

fn login_json(email: &str, password: &str) -> TestRequest {
    TestRequest::post()
        .uri("/api/v1/auth/token")
        .set_json(serde_json::json!({"email": email, "password": password}))
}

#[actix_web::test]
async fn login_succeeds_and_the_token_works() {
    let app = TestApp::new();
    let tenant = app.create_tenant("acme-capital", 10);
    let user = app.create_user(tenant, "admin@acme.example", Role::Admin, PASSWORD);

    let res = app.send(login_json("Admin@Acme.Example", PASSWORD)).await;
    assert_eq!(res.status, 200, "{:?}", res.body);
    assert_eq!(res.body["token_type"], "bearer");
    assert_eq!(res.body["expires_in"], 900);
    assert_eq!(res.header("cache-control"), Some("no-store"));
    let token = res.body["access_token"].as_str().unwrap().to_owned();
    let claims = app.state.authenticator.verifier().verify(&token).unwrap();
    assert_eq!(
        (claims.sub, claims.tenant_id, claims.role),
        (user.0, tenant.0, Role::Admin)
    );

    let listed = app
        .send(
            TestRequest::get()
                .uri("/api/v1/users")
                .insert_header(bearer(&token)),
        )
        .await;
    assert_eq!(listed.status, 200, "{:?}", listed.body);
}

#[actix_web::test]
async fn unknown_email_and_wrong_password_get_the_same_401() {
    let app = TestApp::new();
    let tenant = app.create_tenant("acme-capital", 10);
    app.create_user(tenant, "admin@acme.example", Role::Admin, PASSWORD);

    let wrong = app
        .send(login_json("admin@acme.example", "not the password"))
        .await;
    let unknown = app.send(login_json("nobody@acme.example", PASSWORD)).await;
    let malformed = app.send(login_json("not-an-email", PASSWORD)).await;
    for res in [&wrong, &unknown, &malformed] {
        assert_eq!(res.status, 401);
        assert_eq!(res.detail(), "Unauthorized: invalid email or password");
        assert!(res.body.get("access_token").is_none());
    }
}

#[actix_web::test]
async fn inactive_user_and_suspended_tenant_cannot_log_in() {
    let app = TestApp::new();
    let tenant = app.create_tenant("acme-capital", 10);
    let user = app.create_user(tenant, "trader@acme.example", Role::Trader, PASSWORD);
    app.repos
        .users
        .update(
            &alphapulse_domain::ports::Actor::system(tenant),
            user,
            alphapulse_domain::UserPatch {
                active: Some(false),
                ..Default::default()
            },
            &fixture_note(),
        )
        .unwrap();
    assert_eq!(
        app.send(login_json("trader@acme.example", PASSWORD))
            .await
            .status,
        401
    );

    app.create_user(tenant, "admin@acme.example", Role::Admin, PASSWORD);
    app.repos
        .tenants
        .update(
            tenant,
            TenantPatch {
                status: Some(TenantStatus::Suspended),
                ..Default::default()
            },
            &fixture_note(),
        )
        .unwrap();
    let res = app.send(login_json("admin@acme.example", PASSWORD)).await;
    assert_eq!(res.status, 403, "{:?}", res.body);
}

#[actix_web::test]
async fn the_oauth2_form_login_answers_the_same_json() {
    let app = TestApp::new();
    let tenant = app.create_tenant("beta-quant", 10);
    app.create_user(tenant, "viewer@beta.example", Role::Viewer, PASSWORD);
    let form = |password: &str| {
        TestRequest::post().uri("/token").set_form([
            ("username", "viewer@beta.example"),
            ("password", password),
            ("grant_type", "password"),
        ])
    };
    let ok = app.send(form(PASSWORD)).await;
    assert_eq!(ok.status, 200, "{:?}", ok.body);
    assert_eq!(ok.body["token_type"], "bearer");
    assert!(ok.body["access_token"].as_str().unwrap().split('.').count() == 3);
    assert_eq!(app.send(form("wrong")).await.status, 401);
    let bad_grant = app
        .send(TestRequest::post().uri("/token").set_form([
            ("username", "a@b.c"),
            ("password", "x"),
            ("grant_type", "client_credentials"),
        ]))
        .await;
    assert_eq!(bad_grant.status, 422);
}

#[actix_web::test]
async fn login_is_rate_limited_per_client_address() {
    let mut app = TestApp::new();
    let mut settings = settings();
    settings.auth.login_per_minute = 3;
    app.recompose(&settings);
    let svc = test_service!(app);
    let addr: std::net::SocketAddr = "10.9.8.7:5555".parse().unwrap();
    let mut statuses = Vec::new();
    for _ in 0..5 {
        let req = login_json("nobody@x.example", "whatever")
            .peer_addr(addr)
            .to_request();
        let res = call(&svc, req).await;
        statuses.push(res.status.as_u16());
        if res.status == 429 {
            assert!(res.header("retry-after").unwrap().parse::<u64>().unwrap() >= 1);
        }
    }
    assert_eq!(statuses, vec![401, 401, 401, 429, 429]);
    // Another address is not affected.
    let other = login_json("nobody@x.example", "whatever")
        .peer_addr("10.9.8.8:5555".parse().unwrap())
        .to_request();
    assert_eq!(call(&svc, other).await.status, 401);
}

#[actix_web::test]
async fn forged_expired_and_foreign_tokens_are_401() {
    let app = TestApp::new();
    let a = app.create_tenant("tenant-a", 10);
    let b = app.create_tenant("tenant-b", 10);
    let (admin_a, token_a) = app.user_with_token(a, "admin@a.example", Role::Admin);
    let get = |token: String| {
        TestRequest::get()
            .uri("/api/v1/users")
            .insert_header(bearer(&token))
    };

    // Validly signed, but the tenant is not the user's.
    let foreign = app.token_for(admin_a, b, Role::Admin);
    let res = app.send(get(foreign)).await;
    assert_eq!(res.status, 401, "{:?}", res.body);
    assert!(res.detail().starts_with("Unauthorized"));
    assert_eq!(
        res.header("www-authenticate"),
        Some("Bearer error=\"invalid_token\"")
    );

    // Role raised under the old signature.
    let mut parts: Vec<String> = token_a.split('.').map(str::to_owned).collect();
    let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let mut claims: serde_json::Value =
        serde_json::from_slice(&engine.decode(&parts[1]).unwrap()).unwrap();
    claims["role"] = "owner".into();
    parts[1] = engine.encode(serde_json::to_vec(&claims).unwrap());
    assert_eq!(app.send(get(parts.join("."))).await.status, 401);

    // alg: none.
    let header = engine.encode(br#"{"alg":"none","typ":"JWT"}"#);
    assert_eq!(
        app.send(get(format!("{header}.{}.", parts[1])))
            .await
            .status,
        401
    );

    // Expired beyond the leeway.
    let now = chrono::Utc::now().timestamp();
    let expired = app
        .issuer
        .issue_at(
            admin_a.0,
            a.0,
            Role::Admin,
            std::time::Duration::from_secs(60),
            now - 3600,
        )
        .unwrap();
    assert_eq!(app.send(get(expired)).await.status, 401);

    // Same role, a user that does not exist.
    let ghost = app.token_for(alphapulse_domain::UserId::new_random(), a, Role::Admin);
    assert_eq!(app.send(get(ghost)).await.status, 401);

    // The real token still works.
    assert_eq!(app.send(get(token_a)).await.status, 200);
}
