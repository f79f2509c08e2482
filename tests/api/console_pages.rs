//! The web console's pages in process: login through the form (double-submit CSRF), the
//! session cookie's attributes, a refused setting shown next to its field with nothing
//! written, staff read only, trader without a console, logout ending the session.

use actix_web::test::TestRequest;
use serde_json::Value;

use super::common::{console::*, *};

fn cookie_of(res: &JsonResponse, name: &str) -> Option<String> {
    res.headers
        .get_all("set-cookie")
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with(&format!("{name}=")))
        .map(str::to_owned)
}

fn value_of(cookie: &str) -> &str {
    cookie.split(';').next().unwrap().split_once('=').unwrap().1
}

fn html(res: &JsonResponse) -> &str {
    res.body.as_str().unwrap_or_default()
}

fn csrf_in(page: &str) -> String {
    let at = page.find("name=\"csrf\" value=\"").unwrap() + 19;
    page[at..at + 32].to_owned()
}

fn form(path: &str, session: &str, body: &str) -> TestRequest {
    TestRequest::post()
        .uri(path)
        .insert_header(("cookie", format!("ap_session={session}")))
        .insert_header(("content-type", "application/x-www-form-urlencoded"))
        .set_payload(body.to_owned())
}

fn page(path: &str, session: &str) -> TestRequest {
    TestRequest::get()
        .uri(path)
        .insert_header(("cookie", format!("ap_session={session}")))
}

#[actix_web::test]
async fn login_sets_a_strict_http_only_session_and_logout_ends_it() {
    let f = firm();
    let app = &f.app;
    let email = "owner-login@console.example";
    app.create_platform_user(email, alphapulse_domain::Role::Owner);
    let login = app.send(TestRequest::get().uri("/console/login")).await;
    assert_eq!(login.status, 200);
    let csrf_cookie = cookie_of(&login, "ap_login_csrf").unwrap();
    assert!(csrf_cookie.contains("HttpOnly") && csrf_cookie.contains("SameSite=Strict"));
    let csrf = csrf_in(html(&login));
    let post = |body: String| {
        TestRequest::post()
            .uri("/console/login")
            .insert_header((
                "cookie",
                format!("ap_login_csrf={}", value_of(&csrf_cookie)),
            ))
            .insert_header(("content-type", "application/x-www-form-urlencoded"))
            .set_payload(body)
    };
    let wrong = app
        .send(post(format!(
            "csrf={csrf}&email={email}&password=nope&next=/console/audit"
        )))
        .await;
    assert_eq!(wrong.status, 401);
    assert!(html(&wrong).contains("Unknown e-mail or wrong password."));
    let no_csrf = app
        .send(post(format!("email={email}&password={PASSWORD}")))
        .await;
    assert_eq!(no_csrf.status, 403);
    let ok = app
        .send(post(format!(
            "csrf={csrf}&email={email}&password={}&next=/console/audit",
            PASSWORD.replace(' ', "+")
        )))
        .await;
    assert_eq!(ok.status, 303, "{:?}", ok.body);
    assert_eq!(ok.header("location"), Some("/console/audit"));
    let session = cookie_of(&ok, "ap_session").unwrap();
    for attribute in [
        "HttpOnly",
        "SameSite=Strict",
        "Path=/console",
        "Max-Age=900",
    ] {
        assert!(session.contains(attribute), "{session}");
    }
    let token = value_of(&session).to_owned();
    let audit = app.send(page("/console/audit", &token)).await;
    assert_eq!(audit.status, 200);
    assert!(html(&audit).contains("Audit trail"));
    assert_eq!(audit.header("x-frame-options"), Some("DENY"));
    let csrf = csrf_in(html(&audit));
    let out = app
        .send(form("/console/logout", &token, &format!("csrf={csrf}")))
        .await;
    assert_eq!(out.status, 303);
    assert!(cookie_of(&out, "ap_session").unwrap().contains("Max-Age=0"));
    let after = app.send(page("/console/audit", &token)).await;
    assert_eq!(after.status, 303, "the session ended");
}

#[actix_web::test]
async fn a_refused_setting_is_shown_next_to_its_field_and_nothing_is_written() {
    let f = firm();
    let firm_page = f
        .app
        .send(page(
            &format!("/console/firm?tenant={}", f.a.id),
            &f.a.admin,
        ))
        .await;
    assert_eq!(firm_page.status, 200);
    assert!(html(&firm_page).contains("pilot-acme"));
    let csrf = csrf_in(html(&firm_page));
    let body = format!(
        "csrf={csrf}&tenant_id={}&autopost_threshold=0.99&llm_tenant_cap_usd=-3",
        f.a.id
    );
    let refused = f
        .app
        .send(form("/console/firm/settings", &f.a.admin, &body))
        .await;
    assert_eq!(refused.status, 422);
    let text = html(&refused);
    assert!(text.contains("must be between 0.80 and 0.98"), "{text}");
    assert!(text.contains("must be an amount in USD"), "{text}");
    assert!(
        text.contains("value=\"0.99\""),
        "the form keeps what was typed"
    );
    let read = f
        .app
        .send(
            TestRequest::get()
                .uri(&format!("/api/v1/tenants/{}/settings", f.a.id))
                .insert_header(bearer(&f.a.admin)),
        )
        .await;
    assert_eq!(read.body["updated_at"], Value::Null);
    let body = format!("csrf={csrf}&tenant_id={}&autopost_enabled=on&autopost_threshold=0.91&llm_tenant_cap_usd=75", f.a.id);
    let saved = f
        .app
        .send(
            form("/console/firm/settings", &f.a.admin, &body)
                .insert_header(("x-request-id", "console-req-1")),
        )
        .await;
    assert_eq!(saved.status, 303);
    let read = f
        .app
        .send(
            TestRequest::get()
                .uri(&format!("/api/v1/tenants/{}/settings", f.a.id))
                .insert_header(bearer(&f.a.admin)),
        )
        .await;
    assert_eq!(
        (
            read.body["autopost_enabled"].clone(),
            read.body["autopost_threshold"].clone(),
            read.body["llm_tenant_cap_usd"].clone()
        ),
        (Value::Bool(true), 0.91.into(), "75".into())
    );
    let entries = f.app.audit_entries(f.a.id);
    assert_eq!(entries.len(), 1);
    // The audit row records the server's request id, the client's kept beside it.
    let server_id = entries[0].request_id.as_deref().unwrap();
    assert!(uuid::Uuid::parse_str(server_id).is_ok(), "{server_id}");
    assert_eq!(entries[0].details["client_request_id"], "console-req-1");

    // Staff: read only (the page has no form, a post is 403); traders: no console.
    let staff_page = f
        .app
        .send(page(&format!("/console/firm?tenant={}", f.a.id), &f.staff))
        .await;
    assert_eq!(staff_page.status, 200);
    assert!(!html(&staff_page).contains("settings-form"));
    let staff_csrf = csrf_in(html(&staff_page));
    let staff_post = f
        .app
        .send(form(
            "/console/firm/settings",
            &f.staff,
            &format!(
                "csrf={staff_csrf}&tenant_id={}&autopost_threshold=0.9",
                f.a.id
            ),
        ))
        .await;
    assert_eq!(staff_post.status, 403);
    assert_eq!(
        f.app.send(page("/console/firm", &f.a.trader)).await.status,
        403
    );
    // Another tenant's admin does not see tenant a.
    let other = f
        .app
        .send(page(
            &format!("/console/firm?tenant={}", f.a.id),
            &f.b.admin,
        ))
        .await;
    assert!(!html(&other).contains("pilot-acme"));
}
