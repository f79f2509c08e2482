//! Login throttling beyond the per-address limit: per account (whatever the address), the
//! address taken from `X-Forwarded-For` only behind a trusted proxy, IPv6 clients keyed by
//! their /64.

use std::num::NonZeroU32;

use actix_web::test::TestRequest;

use super::common::*;

fn login(email: &str, peer: &str) -> TestRequest {
    TestRequest::post()
        .uri("/api/v1/auth/token")
        .peer_addr(peer.parse().unwrap())
        .set_json(serde_json::json!({"email": email, "password": "wrong password"}))
}

fn login_via(email: &str, peer: &str, forwarded_for: &str) -> TestRequest {
    TestRequest::post()
        .uri("/api/v1/auth/token")
        .peer_addr(peer.parse().unwrap())
        .insert_header(("x-forwarded-for", forwarded_for))
        .set_json(serde_json::json!({"email": email, "password": "wrong password"}))
}

#[actix_web::test]
async fn one_account_is_throttled_whatever_the_address() {
    let mut app = TestApp::new();
    let mut settings = settings();
    settings.login.per_account_per_minute = NonZeroU32::new(3).unwrap();
    app.recompose(&settings);
    let svc = test_service!(app);
    let mut statuses = Vec::new();
    for i in 0..5 {
        // A different address every time: the account still counts.
        let res = call(
            &svc,
            login("Victim@Acme.Example", &format!("198.51.100.{i}:4000")).to_request(),
        )
        .await;
        statuses.push(res.status.as_u16());
    }
    assert_eq!(statuses, [401, 401, 401, 429, 429]);
    let refused = call(
        &svc,
        login("victim@acme.example", "198.51.100.77:4000").to_request(),
    )
    .await;
    assert_eq!(refused.status, 429, "the key is the normalised e-mail");
    assert_eq!(refused.detail(), "Too many login attempts for this account");
    assert!(refused.header("retry-after").is_some());
    // Another account from the same addresses is not affected.
    assert_eq!(
        call(
            &svc,
            login("other@acme.example", "198.51.100.1:4000").to_request()
        )
        .await
        .status,
        401
    );
}

#[actix_web::test]
async fn forwarded_for_is_believed_only_from_a_trusted_proxy() {
    let mut app = TestApp::new();
    let mut settings = settings();
    settings.auth.login_per_minute = 2;
    settings.trusted_proxies = vec!["10.0.0.0/8".parse().unwrap()];
    app.recompose(&settings);
    let svc = test_service!(app);
    // Behind the proxy, each client has its own budget.
    for client in ["203.0.113.1", "203.0.113.2"] {
        for _ in 0..2 {
            let res = call(
                &svc,
                login_via(&format!("{client}@x.example"), "10.0.0.5:80", client).to_request(),
            )
            .await;
            assert_eq!(res.status, 401);
        }
        let res = call(
            &svc,
            login_via("third@x.example", "10.0.0.5:80", client).to_request(),
        )
        .await;
        assert_eq!(res.status, 429, "{client} is limited on its own");
    }
    // An untrusted peer cannot choose its key: the header is ignored, its address counts.
    for (i, fake) in ["1.1.1.1", "2.2.2.2"].into_iter().enumerate() {
        let res = call(
            &svc,
            login_via(&format!("u{i}@x.example"), "192.0.2.9:80", fake).to_request(),
        )
        .await;
        assert_eq!(res.status, 401);
    }
    let res = call(
        &svc,
        login_via("u3@x.example", "192.0.2.9:80", "3.3.3.3").to_request(),
    )
    .await;
    assert_eq!(res.status, 429);
}

#[actix_web::test]
async fn ipv6_clients_are_limited_per_slash_64() {
    let mut app = TestApp::new();
    let mut settings = settings();
    settings.auth.login_per_minute = 2;
    app.recompose(&settings);
    let svc = test_service!(app);
    for (i, peer) in ["[2001:db8:1:2::1]:80", "[2001:db8:1:2:ffff::9]:80"]
        .into_iter()
        .enumerate()
    {
        assert_eq!(
            call(&svc, login(&format!("v{i}@x.example"), peer).to_request())
                .await
                .status,
            401
        );
    }
    let same_64 = call(
        &svc,
        login("v3@x.example", "[2001:db8:1:2:abcd::1]:80").to_request(),
    )
    .await;
    assert_eq!(same_64.status, 429, "rotating the low 64 bits buys nothing");
    let other_64 = call(
        &svc,
        login("v4@x.example", "[2001:db8:1:3::1]:80").to_request(),
    )
    .await;
    assert_eq!(other_64.status, 401);
}
