//! Request body limits (`docs/security.md`): a JSON body over 256 KiB and a form body over
//! 16 KiB answer 413, before any other work; a body of exactly the limit is read and handled
//! as usual.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::common::*;
use actix_web::test::TestRequest;
use alphapulse_domain::Role;

/// The largest JSON body, as documented.
const JSON_LIMIT: usize = 256 * 1024;
/// The largest form body (`POST /token`), as documented.
const FORM_LIMIT: usize = 16 * 1024;

/// A JSON object of exactly `size` bytes: `{"email": ..., "password": "xxx..."}`.
fn json_body(size: usize) -> String {
    let head = r#"{"email":"nobody@limits.example","password":""#;
    let tail = r#""}"#;
    let body = format!("{head}{}{tail}", "x".repeat(size - head.len() - tail.len()));
    assert_eq!(body.len(), size);
    body
}

/// A form body of exactly `size` bytes: `username=...&password=xxx...`.
fn form_body(size: usize) -> String {
    let head = "grant_type=password&username=nobody%40limits.example&password=";
    let body = format!("{head}{}", "x".repeat(size - head.len()));
    assert_eq!(body.len(), size);
    body
}

fn post(uri: &str, content_type: &str, body: String) -> TestRequest {
    TestRequest::post()
        .uri(uri)
        .insert_header(("content-type", content_type))
        .set_payload(body)
}

#[actix_web::test]
async fn a_json_body_over_256_kib_is_413_on_json_routes() {
    let app = TestApp::new();
    let tenant = app.create_tenant("acme-capital", 10);
    let (_, trader) = app.user_with_token(tenant, "trader@acme.example", Role::Trader);
    // The login route (before any credentials are looked at), a route that takes a typed
    // JSON body, and one that reads its optional JSON body as bytes; with the status a body
    // of exactly the limit gets for what it says (an unknown login; fields these routes do
    // not take).
    for (uri, token, at_limit) in [
        ("/api/v1/auth/token", None, 401),
        ("/api/v1/ensemble/create", Some(&trader), 422),
        ("/api/v1/hedging/execute", Some(&trader), 422),
    ] {
        let with_token = |req: TestRequest| match token {
            Some(t) => req.insert_header(bearer(t)),
            None => req,
        };
        let over = app
            .send(with_token(post(
                uri,
                "application/json",
                json_body(JSON_LIMIT + 1),
            )))
            .await;
        assert_eq!(over.status, 413, "{uri}: {:?}", over.body);
        // The optional-body routes answer with the same JSON error body as the others.
        assert_eq!(over.detail(), "Request body too large", "{uri}");
        // Exactly at the limit: read, then refused for what it says, not for its size.
        let at = app
            .send(with_token(post(
                uri,
                "application/json",
                json_body(JSON_LIMIT),
            )))
            .await;
        assert_eq!(at.status, at_limit, "{uri}: {:?}", at.body);
    }
}

#[actix_web::test]
async fn a_form_body_over_16_kib_is_413_on_the_token_form() {
    let app = TestApp::new();
    let content_type = "application/x-www-form-urlencoded";
    let over = app
        .send(post("/token", content_type, form_body(FORM_LIMIT + 1)))
        .await;
    assert_eq!(over.status, 413, "{:?}", over.body);
    assert_eq!(over.detail(), "Request body too large");
    // Exactly at the limit: parsed, and refused as an unknown login.
    let at = app
        .send(post("/token", content_type, form_body(FORM_LIMIT)))
        .await;
    assert_eq!(at.status, 401, "{:?}", at.body);
}
