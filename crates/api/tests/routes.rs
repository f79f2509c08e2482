//! The route table: every registered route (read from the app's own registration code, so a
//! route added later is covered without editing this test) answers 401 without a token and
//! with a bad one, except the public allow-list; and the OpenAPI document covers every route.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeSet;

use actix_web::{http::Method, test::TestRequest};
use alphapulse_api::{route_table, PUBLIC_ROUTES};
use common::*;

fn concrete(path: &str) -> String {
    // Fill every `{param}` with a well-formed id.
    let mut out = String::new();
    let mut rest = path;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let end = rest[start..]
            .find('}')
            .map_or(rest.len(), |e| start + e + 1);
        out.push_str("00000000-0000-4000-8000-000000000001");
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

fn is_public(method: &Method, path: &str) -> bool {
    PUBLIC_ROUTES
        .iter()
        .any(|(m, p)| *m == method.as_str() && *p == path)
}

#[actix_web::test]
async fn every_non_public_route_needs_a_token() {
    let app = TestApp::new();
    let svc = test_service!(app);
    let table = route_table();
    assert!(table.len() >= PUBLIC_ROUTES.len() + 8, "{table:?}");
    for (m, p) in PUBLIC_ROUTES {
        assert!(
            table
                .iter()
                .any(|r| r.method.as_str() == *m && r.path == *p),
            "public route {m} {p} is not registered"
        );
    }
    let mut checked = 0;
    for route in table.iter().filter(|r| !is_public(&r.method, r.path)) {
        let uri = concrete(route.path);
        for auth in [None, Some("Bearer not.a.token"), Some("Basic dXNlcjpwYXNz")] {
            let mut req = TestRequest::default()
                .method(route.method.clone())
                .uri(&uri)
                .insert_header(("content-type", "application/json"))
                .set_payload("{}");
            if let Some(value) = auth {
                req = req.insert_header(("authorization", value));
            }
            let res = call(&svc, req.to_request()).await;
            assert_eq!(
                res.status, 401,
                "{} {uri} with {auth:?}: {:?}",
                route.method, res.body
            );
            assert!(
                res.detail().starts_with("Unauthorized"),
                "{} {uri}: {:?}",
                route.method,
                res.body
            );
            assert!(res
                .header("www-authenticate")
                .unwrap_or_default()
                .starts_with("Bearer"));
            assert!(res.header("x-request-id").is_some());
        }
        checked += 1;
    }
    assert!(checked >= 8, "only {checked} protected routes");
}

#[actix_web::test]
async fn public_routes_answer_without_a_token() {
    let app = TestApp::new();
    for path in ["/health", "/ready", "/openapi.json"] {
        let res = app.send(TestRequest::get().uri(path)).await;
        assert_eq!(res.status, 200, "{path}");
    }
}

#[actix_web::test]
async fn the_openapi_document_describes_every_route() {
    let app = TestApp::new();
    let res = app.send(TestRequest::get().uri("/openapi.json")).await;
    assert_eq!(res.status, 200);
    assert!(res.body["openapi"].as_str().unwrap().starts_with("3.1"));
    let documented: BTreeSet<(String, String)> = res.body["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, ops)| {
            ops.as_object()
                .unwrap()
                .keys()
                .map(move |m| (m.to_uppercase(), path.clone()))
        })
        .collect();
    let registered: BTreeSet<(String, String)> = route_table()
        .into_iter()
        .filter(|r| r.path != "/openapi.json")
        .map(|r| (r.method.as_str().to_owned(), r.path.to_owned()))
        .collect();
    let missing: Vec<_> = registered.difference(&documented).collect();
    assert!(
        missing.is_empty(),
        "routes missing from /openapi.json: {missing:?}"
    );
    assert!(res.body["components"]["securitySchemes"]["bearer"].is_object());
}

#[actix_web::test]
async fn request_ids_are_echoed_or_generated_and_unknown_routes_are_json_404() {
    let app = TestApp::new();
    let echoed = app
        .send(
            TestRequest::get()
                .uri("/health")
                .insert_header(("x-request-id", "client-abc-123")),
        )
        .await;
    assert_eq!(echoed.header("x-request-id"), Some("client-abc-123"));
    let generated = app
        .send(
            TestRequest::get()
                .uri("/health")
                .insert_header(("x-request-id", "bad id with spaces")),
        )
        .await;
    let id = generated.header("x-request-id").unwrap();
    assert!(uuid::Uuid::parse_str(id).is_ok(), "{id}");
    let missing = app
        .send(
            TestRequest::get()
                .uri("/nope")
                .insert_header(("x-request-id", "req-404")),
        )
        .await;
    assert_eq!(missing.status, 404);
    assert_eq!(missing.body["request_id"], "req-404");
    assert!(missing.detail().contains("not found"));
}
