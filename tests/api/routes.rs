//! The route table: every declared route (read from the declarations the app registers, so
//! a route added later is covered without editing this test) answers 401 without a token and
//! with a bad one, except the public ones; 403 to a role without its permission; 405 with
//! `Allow` to a method its path does not have; and the OpenAPI document covers every route.

use std::collections::BTreeSet;

use actix_web::{http::Method, test::TestRequest};
use alphapulse_api::{route_table, Access};
use alphapulse_domain::Role;

use super::common::*;

/// The routes that need no token: exactly these (a handler declared public by mistake fails
/// here).
const PUBLIC_ROUTES: &[(&str, &str)] = &[
    ("GET", "/health"),
    ("GET", "/ready"),
    ("GET", "/openapi.json"),
    ("POST", "/token"),
    ("POST", "/api/v1/auth/token"),
];

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

/// Pages of the web console: cookie sessions, HTML, not in the OpenAPI document.
fn is_console(access: Access) -> bool {
    matches!(access, Access::Console(_))
}

fn is_public(method: &Method, path: &str) -> bool {
    PUBLIC_ROUTES
        .iter()
        .any(|(m, p)| *m == method.as_str() && *p == path)
}

#[test]
fn exactly_the_expected_routes_are_public() {
    let public: BTreeSet<(String, String)> = route_table()
        .into_iter()
        .filter(|r| r.access == Access::Public)
        .map(|r| (r.method.as_str().to_owned(), r.path))
        .collect();
    let expected: BTreeSet<(String, String)> = PUBLIC_ROUTES
        .iter()
        .map(|(m, p)| ((*m).to_owned(), (*p).to_owned()))
        .collect();
    assert_eq!(public, expected);
}

#[test]
fn every_path_is_declared_once_per_method() {
    let table = route_table();
    let unique: BTreeSet<(String, String)> = table
        .iter()
        .map(|r| (r.method.as_str().to_owned(), r.path.clone()))
        .collect();
    assert_eq!(unique.len(), table.len(), "a route is declared twice");
}

#[actix_web::test]
async fn every_non_public_route_needs_a_token() {
    let app = TestApp::with_settings(&roomy_settings());
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
    for route in table
        .iter()
        .filter(|r| !is_public(&r.method, &r.path) && !is_console(r.access))
    {
        let uri = concrete(&route.path);
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
            // RFC 6750 section 3.1: no error code when no credential was sent at all.
            let challenge = res.header("www-authenticate").unwrap_or_default();
            match auth {
                None => assert_eq!(challenge, "Bearer", "{uri}"),
                Some(a) if a.starts_with("Bearer") => {
                    assert_eq!(challenge, "Bearer error=\"invalid_token\"", "{uri}");
                }
                Some(_) => assert!(challenge.starts_with("Bearer"), "{uri}: {challenge}"),
            }
            assert!(res.header("x-request-id").is_some());
        }
        checked += 1;
    }
    assert!(checked >= 8, "only {checked} protected routes");
}

#[actix_web::test]
async fn public_routes_answer_without_a_token() {
    let app = TestApp::with_settings(&roomy_settings());
    for path in ["/health", "/ready", "/openapi.json"] {
        let res = app.send(TestRequest::get().uri(path)).await;
        assert_eq!(res.status, 200, "{path}");
    }
}

#[actix_web::test]
async fn the_openapi_document_describes_every_route() {
    let app = TestApp::with_settings(&roomy_settings());
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
        .filter(|r| r.path != "/openapi.json" && !is_console(r.access))
        .map(|r| (r.method.as_str().to_owned(), r.path))
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
    let app = TestApp::with_settings(&roomy_settings());
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

#[actix_web::test]
async fn a_role_without_the_permission_gets_403_on_every_route() {
    // Every route once per role that lacks its permission: more than a plan's burst.
    let app = TestApp::with_settings(&roomy_settings());
    let acme = app.create_tenant("acme-capital", 50);
    // A user of every role: platform roles in the platform tenant, tenant roles in acme.
    let tokens: Vec<(Role, String)> = Role::ALL
        .iter()
        .map(|role| {
            let tenant = if role.is_platform() {
                app.platform_tenant
            } else {
                acme
            };
            let email = format!("{role}@roles.example");
            (*role, app.user_with_token(tenant, &email, *role).1)
        })
        .collect();
    let svc = test_service!(app);
    let mut checked = 0;
    for route in route_table() {
        let Access::Requires(permission) = route.access else {
            continue;
        };
        for (role, token) in tokens.iter().filter(|(r, _)| !r.allows(permission)) {
            let req = TestRequest::default()
                .method(route.method.clone())
                .uri(&concrete(&route.path))
                .insert_header(bearer(token))
                .insert_header(("content-type", "application/json"))
                .set_payload("{}");
            let res = call(&svc, req.to_request()).await;
            assert_eq!(
                res.status, 403,
                "{} {} as {role}: {:?}",
                route.method, route.path, res.body
            );
            assert!(res.detail().starts_with("Forbidden"), "{:?}", res.body);
            checked += 1;
        }
    }
    assert!(checked >= 20, "only {checked} refusals checked");
}

#[actix_web::test]
async fn a_known_path_with_another_method_is_405_with_allow() {
    let app = TestApp::with_settings(&roomy_settings());
    let svc = test_service!(app);
    let table = route_table();
    let paths: BTreeSet<String> = table.iter().map(|r| r.path.clone()).collect();
    for path in paths {
        let allowed: BTreeSet<&str> = table
            .iter()
            .filter(|r| r.path == path)
            .map(|r| r.method.as_str())
            .collect();
        for method in [
            Method::GET,
            Method::POST,
            Method::PUT,
            Method::PATCH,
            Method::DELETE,
        ] {
            if allowed.contains(method.as_str()) {
                continue;
            }
            let req = TestRequest::default()
                .method(method.clone())
                .uri(&concrete(&path));
            let res = call(&svc, req.to_request()).await;
            assert_eq!(res.status, 405, "{method} {path}: {:?}", res.body);
            let allow: BTreeSet<&str> = res
                .header("allow")
                .unwrap_or_default()
                .split(", ")
                .collect();
            assert_eq!(allow, allowed, "{method} {path}");
            assert!(res.body["detail"].is_string());
        }
    }
}

#[actix_web::test]
async fn the_console_pages_stay_out_of_the_openapi_document() {
    let doc = serde_json::to_value(alphapulse_api::openapi()).unwrap();
    let console: Vec<_> = route_table()
        .into_iter()
        .filter(|r| is_console(r.access))
        .collect();
    assert!(console.len() >= 12, "{console:?}");
    for route in console {
        assert!(route.path.starts_with("/console"), "{}", route.path);
        assert!(
            doc["paths"].get(&route.path).is_none(),
            "{} is documented",
            route.path
        );
    }
}

#[actix_web::test]
async fn every_console_page_without_a_session_redirects_to_login() {
    let app = TestApp::with_settings(&roomy_settings());
    let acme = app.create_tenant("acme-capital", 50);
    let (_, bearer_token) = app.user_with_token(acme, "admin@acme.example", Role::Admin);
    let svc = test_service!(app);
    let mut checked = 0;
    for route in route_table() {
        let Access::Console(permission) = route.access else {
            continue;
        };
        let uri = concrete(&route.path);
        if permission.is_none() {
            // The login page itself: the form, and its post refused without the CSRF pair.
            let res = call(
                &svc,
                TestRequest::default()
                    .method(route.method.clone())
                    .uri(&uri)
                    .to_request(),
            )
            .await;
            let expected = if route.method == Method::GET {
                200
            } else {
                403
            };
            assert_eq!(res.status, expected, "{} {uri}", route.method);
            continue;
        }
        // No cookie (a bearer token does not open a console page), an unknown cookie.
        for (auth, cookie) in [
            (None, None),
            (Some(bearer(&bearer_token)), None),
            (None, Some("ap_session=not.a.token")),
        ] {
            let mut req = TestRequest::default()
                .method(route.method.clone())
                .uri(&uri)
                .insert_header(("content-type", "application/x-www-form-urlencoded"))
                .set_payload("csrf=x");
            if let Some(a) = auth {
                req = req.insert_header(a);
            }
            if let Some(c) = cookie {
                req = req.insert_header(("cookie", c));
            }
            let res = call(&svc, req.to_request()).await;
            assert_eq!(res.status, 303, "{} {uri}: {:?}", route.method, res.body);
            let location = res.header("location").unwrap_or_default();
            assert!(location.starts_with("/console/login?next="), "{location}");
        }
        checked += 1;
    }
    assert!(checked >= 10, "{checked}");
}

#[actix_web::test]
async fn every_console_form_without_its_csrf_token_is_403() {
    let app = TestApp::with_settings(&roomy_settings());
    let acme = app.create_tenant("acme-capital", 50);
    let (_, session) = app.user_with_token(acme, "admin@acme.example", Role::Admin);
    let svc = test_service!(app);
    let mut checked = 0;
    for route in route_table() {
        if !matches!(route.access, Access::Console(Some(_))) || route.method != Method::POST {
            continue;
        }
        for body in ["", "csrf=0123456789abcdef0123456789abcdef&tenant_id=x"] {
            let req = TestRequest::post()
                .uri(&route.path)
                .insert_header(("cookie", format!("ap_session={session}")))
                .insert_header(("content-type", "application/x-www-form-urlencoded"))
                .set_payload(body);
            let res = call(&svc, req.to_request()).await;
            assert_eq!(
                res.status, 403,
                "POST {} with {body:?}: {:?}",
                route.path, res.body
            );
        }
        checked += 1;
    }
    assert!(checked >= 6, "{checked}");
}
