//! Tenant settings (seed 004): persisted and read back, bounds enforced with nothing written,
//! every change audited, owner/staff/admin visibility, staff read-only, tokens required.

use actix_web::test::TestRequest;
use serde_json::{json, Value};

use super::common::{console::*, *};

fn get(path: &str, token: &str) -> TestRequest {
    TestRequest::get().uri(path).insert_header(bearer(token))
}

fn post(path: &str, token: &str, body: Value) -> TestRequest {
    TestRequest::post()
        .uri(path)
        .insert_header(bearer(token))
        .set_json(body)
}

fn settings_path(t: &FirmTenant) -> String {
    format!("/api/v1/tenants/{}/settings", t.id)
}

#[actix_web::test]
async fn test_toggle_persists_and_reads_back() {
    let f = firm();
    let path = settings_path(&f.a);
    let fresh = f.app.send(get(&path, &f.a.admin)).await;
    assert_eq!(fresh.status, 200, "{:?}", fresh.body);
    assert_eq!(fresh.body["autopost_enabled"], false);
    assert_eq!(fresh.body["autopost_threshold"], 0.9);
    assert_eq!(fresh.body["llm_tenant_cap_usd"], "100");
    assert_eq!(fresh.body["updated_at"], Value::Null);
    for on in [true, false, true] {
        let set = f
            .app
            .send(post(&path, &f.a.admin, json!({"autopost_enabled": on})))
            .await;
        assert_eq!(set.status, 200, "{:?}", set.body);
        assert_eq!(set.body["autopost_enabled"], on);
        // A fresh service over the same database reads it back.
        let read = f.app.send(get(&path, &f.a.admin)).await;
        assert_eq!(read.body["autopost_enabled"], on);
        assert_eq!(read.body["updated_by"], f.a.admin_id.to_string());
        assert!(read.body["updated_at"].is_string());
    }
    // The other tenant is untouched.
    let b = f.app.send(get(&settings_path(&f.b), &f.b.admin)).await;
    assert_eq!(b.body["autopost_enabled"], false);
}

#[actix_web::test]
async fn test_threshold_validation() {
    let f = firm();
    let path = settings_path(&f.a);
    for bad in [0.79, 0.99, -1.0, 2.0] {
        let res = f
            .app
            .send(post(
                &path,
                &f.a.admin,
                json!({"autopost_threshold": bad, "autopost_enabled": true}),
            ))
            .await;
        assert_eq!(res.status, 422, "{bad}: {:?}", res.body);
    }
    for bad in [
        json!({}),
        json!({"autopost_threshold": null}),
        json!({"llm_tenant_cap_usd": "-5"}),
        json!({"nope": 1}),
    ] {
        let res = f.app.send(post(&path, &f.a.admin, bad.clone())).await;
        assert_eq!(res.status, 422, "{bad}: {:?}", res.body);
    }
    // Nothing was written: defaults, no audit row, no trail row.
    let read = f.app.send(get(&path, &f.a.admin)).await;
    assert_eq!(read.body["updated_at"], Value::Null);
    assert_eq!(read.body["autopost_enabled"], false);
    assert!(f.app.audit_entries(f.a.id).is_empty());
    let trail = f.app.send(get("/api/v1/audit", &f.a.admin)).await;
    assert_eq!(trail.body["items"], json!([]));
    // The bounds themselves are accepted.
    for ok in [0.8, 0.98] {
        let res = f
            .app
            .send(post(&path, &f.a.admin, json!({"autopost_threshold": ok})))
            .await;
        assert_eq!(res.status, 200, "{ok}: {:?}", res.body);
        assert_eq!(res.body["autopost_threshold"], ok);
    }
}

#[actix_web::test]
#[tracing_test::traced_test]
async fn test_budget_updates_write_audit_entry() {
    let f = firm();
    let path = settings_path(&f.a);
    let res = f
        .app
        .send(
            post(&path, &f.a.admin, json!({"llm_tenant_cap_usd": "250.50"}))
                .insert_header(("x-request-id", "req-budget-1")),
        )
        .await;
    assert_eq!(res.status, 200, "{:?}", res.body);
    assert_eq!(res.body["llm_tenant_cap_usd"], "250.5");
    let entries = f.app.audit_entries(f.a.id);
    assert_eq!(entries.len(), 1, "{entries:?}");
    let e = &entries[0];
    assert_eq!(e.action, "tenant_settings.update");
    assert_eq!(e.user_id, Some(f.a.admin_id));
    // The server's own request id, the client's kept beside it.
    let server_id = e.request_id.as_deref().unwrap();
    assert!(uuid::Uuid::parse_str(server_id).is_ok(), "{server_id}");
    assert_eq!(e.details["client_request_id"], "req-budget-1");
    assert_eq!(e.details["llm_tenant_cap_usd"], "250.5");
    assert_eq!(e.details["previous"]["llm_tenant_cap_usd"], "100");
    // The decision trail has the change too, its txn_id being the audit row's id.
    let trail = f
        .app
        .send(get("/api/v1/audit?action=settings_updated", &f.a.admin))
        .await;
    assert_eq!(trail.status, 200, "{:?}", trail.body);
    let items = trail.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["txn_id"], e.id.to_string());
    assert_eq!(items[0]["vendor_normalized"], "settings");
    assert_eq!(items[0]["threshold_used"], 0.9);
    assert!(logs_contain(&format!(
        "[Tenant: {}] [User: {}] update tenant settings started",
        f.a.id, f.a.admin_id
    )));
}

#[actix_web::test]
async fn test_owner_sees_all_tenants() {
    let f = firm();
    let res = f
        .app
        .send(get("/api/v1/settings?limit=500", &f.owner))
        .await;
    assert_eq!(res.status, 200, "{:?}", res.body);
    let slugs: Vec<&str> = res.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["slug"].as_str().unwrap())
        .collect();
    assert!(
        slugs.contains(&"pilot-acme") && slugs.contains(&"pilot-beta"),
        "{slugs:?}"
    );
    // The platform's own tenant is no firm: the console does not list it.
    assert!(
        !slugs.contains(&alphapulse_domain::tenant::PLATFORM_SLUG),
        "{slugs:?}"
    );
    // And may read and change any tenant's settings.
    for t in [&f.a, &f.b] {
        assert_eq!(
            f.app.send(get(&settings_path(t), &f.owner)).await.status,
            200
        );
        let set = f
            .app
            .send(post(
                &settings_path(t),
                &f.owner,
                json!({"autopost_threshold": 0.93}),
            ))
            .await;
        assert_eq!(set.status, 200, "{:?}", set.body);
    }
    let unknown = format!("/api/v1/tenants/{}/settings", uuid::Uuid::new_v4());
    assert_eq!(f.app.send(get(&unknown, &f.owner)).await.status, 404);
}

#[actix_web::test]
async fn test_staff_sees_assigned_only() {
    let f = firm();
    let res = f.app.send(get("/api/v1/settings", &f.staff)).await;
    assert_eq!(res.status, 200, "{:?}", res.body);
    let items = res.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{items:?}");
    assert_eq!(items[0]["tenant_id"], f.a.id.to_string());
    assert_eq!(
        f.app.send(get(&settings_path(&f.a), &f.staff)).await.status,
        200
    );
    assert_eq!(
        f.app.send(get(&settings_path(&f.b), &f.staff)).await.status,
        404
    );
    // A tenant admin sees their own tenant only.
    let own = f.app.send(get("/api/v1/settings", &f.b.admin)).await;
    let items = own.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["tenant_id"], f.b.id.to_string());
    assert_eq!(
        f.app
            .send(get(&settings_path(&f.a), &f.b.admin))
            .await
            .status,
        404
    );
    // Traders and viewers have no console.
    for token in [&f.a.trader, &f.a.viewer] {
        assert_eq!(
            f.app.send(get(&settings_path(&f.a), token)).await.status,
            403
        );
    }
}

#[actix_web::test]
async fn test_staff_cannot_update_settings() {
    let f = firm();
    let res = f
        .app
        .send(post(
            &settings_path(&f.a),
            &f.staff,
            json!({"autopost_enabled": true}),
        ))
        .await;
    assert_eq!(res.status, 403, "{:?}", res.body);
    let read = f.app.send(get(&settings_path(&f.a), &f.a.admin)).await;
    assert_eq!(read.body["autopost_enabled"], false);
    assert_eq!(read.body["updated_at"], Value::Null);
    assert!(f.app.audit_entries(f.a.id).is_empty());
    // Nor may an admin change another tenant's settings (not found), or a viewer its own.
    let other = f
        .app
        .send(post(
            &settings_path(&f.b),
            &f.a.admin,
            json!({"autopost_enabled": true}),
        ))
        .await;
    assert_eq!(other.status, 404);
    let viewer = f
        .app
        .send(post(
            &settings_path(&f.a),
            &f.a.viewer,
            json!({"autopost_enabled": true}),
        ))
        .await;
    assert_eq!(viewer.status, 403);
}

#[actix_web::test]
async fn test_invalid_token_rejected() {
    let f = firm();
    let path = settings_path(&f.a);
    for auth in [Some("Bearer not.a.token"), Some("Bearer "), None] {
        for req in [
            TestRequest::get().uri(&path),
            TestRequest::post()
                .uri(&path)
                .set_json(json!({"autopost_enabled": true})),
            TestRequest::get().uri("/api/v1/settings"),
        ] {
            let req = match auth {
                Some(value) => req.insert_header(("authorization", value)),
                None => req,
            };
            let res = f.app.send(req).await;
            assert_eq!(res.status, 401, "{auth:?}: {:?}", res.body);
        }
    }
    // A token signed with another key.
    let forged = tenant_auth::TokenIssuer::new(
        tenant_auth::KeySet::hs256("test", b"another-secret-0123456789-abcdefgh").unwrap(),
        ISSUER,
        AUDIENCE,
    )
    .unwrap()
    .issue(
        f.a.admin_id.as_uuid(),
        f.a.id.as_uuid(),
        alphapulse_domain::Role::Admin,
        std::time::Duration::from_secs(60),
    )
    .unwrap();
    assert_eq!(f.app.send(get(&path, &forged)).await.status, 401);
    assert!(f.app.audit_entries(f.a.id).is_empty());
}
