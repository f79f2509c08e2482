//! `/api/v1/tenants` against a real PostgreSQL: the owner's CRUD, staff's read-only view of
//! assigned tenants, tenant roles refused, validation answers, audit rows, and the effect of
//! suspending a tenant on its users' next request.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::common::*;
use actix_web::{http::StatusCode, test::TestRequest};
use alphapulse_domain::{ports::Actor, PageRequest, Role, TenantId, UserId};
use serde_json::{json, Value};

const TENANTS: &str = "/api/v1/tenants";

fn get(uri: &str, token: &str) -> TestRequest {
    TestRequest::get().uri(uri).insert_header(bearer(token))
}

fn post(uri: &str, token: &str, body: &Value) -> TestRequest {
    TestRequest::post()
        .uri(uri)
        .insert_header(bearer(token))
        .set_json(body)
}

fn patch(uri: &str, token: &str, body: &Value) -> TestRequest {
    TestRequest::patch()
        .uri(uri)
        .insert_header(bearer(token))
        .set_json(body)
}

fn delete(uri: &str, token: &str) -> TestRequest {
    TestRequest::delete().uri(uri).insert_header(bearer(token))
}

fn owner(app: &TestApp) -> (UserId, String) {
    let id = app.create_platform_user("owner@platform.example", Role::Owner);
    (id, app.token_for(id, app.platform_tenant, Role::Owner))
}

fn tenant_id(body: &Value) -> TenantId {
    body["id"].as_str().unwrap().parse().unwrap()
}

#[actix_web::test]
async fn owner_creates_reads_updates_and_cancels_tenants() {
    let app = TestApp::new();
    let (owner_id, owner) = owner(&app);

    let body = json!({
        "name": "Acme Capital", "slug": "acme-capital", "subscription_tier": "pro",
        "max_users": 3, "metadata": {"region": "eu"}
    });
    let created = app.send(post(TENANTS, &owner, &body)).await;
    assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
    let acme = tenant_id(&created.body);
    assert_eq!(
        created.header("location"),
        Some(format!("/api/v1/tenants/{acme}").as_str())
    );
    let mut keys: Vec<&str> = created
        .body
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "created_at",
            "id",
            "max_api_calls_per_day",
            "max_users",
            "metadata",
            "name",
            "slug",
            "status",
            "subscription_tier",
            "updated_at"
        ]
    );
    assert_eq!(created.body["slug"], "acme-capital");
    assert_eq!(created.body["subscription_tier"], "pro");
    assert_eq!(created.body["status"], "active");
    assert_eq!(created.body["max_users"], 3);
    assert_eq!(
        created.body["max_api_calls_per_day"], 10000,
        "database default"
    );
    assert_eq!(created.body["metadata"], json!({"region": "eu"}));

    // Duplicate slug: 409, and nothing else created.
    let dup = json!({"name": "Other", "slug": "acme-capital", "subscription_tier": "starter"});
    let conflict = app.send(post(TENANTS, &owner, &dup)).await;
    assert_eq!(conflict.status, StatusCode::CONFLICT);
    assert!(
        conflict.detail().to_lowercase().contains("slug"),
        "{}",
        conflict.detail()
    );
    assert!(!conflict.body["request_id"].as_str().unwrap().is_empty());

    // Get.
    let got = app.send(get(&format!("{TENANTS}/{acme}"), &owner)).await;
    assert_eq!(got.status, StatusCode::OK);
    assert_eq!(got.body, created.body);

    // Patch: suspend and rename.
    let suspended = app
        .send(patch(
            &format!("{TENANTS}/{acme}"),
            &owner,
            &json!({"status": "suspended", "name": " Acme "}),
        ))
        .await;
    assert_eq!(suspended.status, StatusCode::OK, "{:?}", suspended.body);
    assert_eq!(suspended.body["status"], "suspended");
    assert_eq!(suspended.body["name"], "Acme");
    assert_eq!(
        suspended.body["slug"], "acme-capital",
        "untouched fields stay"
    );
    assert_eq!(
        app.repos.tenants.get(acme).unwrap().status.as_str(),
        "suspended"
    );
    let filtered = app
        .send(get(&format!("{TENANTS}?status=suspended"), &owner))
        .await;
    assert_eq!(filtered.status, StatusCode::OK);
    let ids: Vec<&str> = filtered.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [acme.to_string()]);

    // Delete: 204, status cancelled, data (its users) kept.
    let admin = app.create_user(acme, "admin@acme.example", Role::Admin, PASSWORD);
    let deleted = app.send(delete(&format!("{TENANTS}/{acme}"), &owner)).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    assert_eq!(deleted.body, Value::Null);
    let after = app.send(get(&format!("{TENANTS}/{acme}"), &owner)).await;
    assert_eq!(after.status, StatusCode::OK);
    assert_eq!(after.body["status"], "cancelled");
    assert_eq!(after.body["name"], "Acme");
    let kept = app.repos.users.get(&Actor::system(acme), admin).unwrap();
    assert_eq!(kept.id, admin);

    // Unknown and malformed ids are 404.
    let unknown = app
        .send(get(&format!("{TENANTS}/{}", uuid::Uuid::new_v4()), &owner))
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    let malformed = app
        .send(get(&format!("{TENANTS}/not-a-uuid"), &owner))
        .await;
    assert_eq!(malformed.status, StatusCode::NOT_FOUND);
    let unknown_patch = app
        .send(patch(
            &format!("{TENANTS}/{}", uuid::Uuid::new_v4()),
            &owner,
            &json!({"name": "x"}),
        ))
        .await;
    assert_eq!(unknown_patch.status, StatusCode::NOT_FOUND);

    // Every write is audited under the tenant it changed, with the acting owner and request id.
    let entries = app.audit_entries(acme);
    let actions: Vec<&str> = entries.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(
        actions,
        ["tenant.delete", "tenant.update", "tenant.create"],
        "newest first"
    );
    for entry in &entries {
        assert_eq!(entry.target, format!("tenant:{acme}"));
        assert_eq!(entry.user_id, Some(owner_id));
        assert_eq!(entry.outcome.as_str(), "success");
        assert!(entry.request_id.as_deref().is_some_and(|r| !r.is_empty()));
    }
}

#[actix_web::test]
async fn list_is_paginated_with_a_cursor() {
    let app = TestApp::new();
    let (_, owner) = owner(&app);
    for slug in ["t-one", "t-two", "t-three", "t-four"] {
        app.create_tenant(slug, 5);
    }
    // Five tenants with the platform tenant; pages of two.
    let mut seen = Vec::new();
    let mut uri = format!("{TENANTS}?limit=2");
    for page in 0.. {
        let res = app.send(get(&uri, &owner)).await;
        assert_eq!(res.status, StatusCode::OK, "{:?}", res.body);
        let items = res.body["items"].as_array().unwrap();
        assert!(items.len() <= 2);
        seen.extend(items.iter().map(|t| t["slug"].as_str().unwrap().to_owned()));
        match res.body["next_cursor"].as_str() {
            Some(cursor) => uri = format!("{TENANTS}?limit=2&cursor={cursor}"),
            None => {
                assert_eq!(page, 2, "three pages");
                break;
            }
        }
    }
    assert_eq!(seen, ["platform", "t-one", "t-two", "t-three", "t-four"]);

    let all = app.send(get(TENANTS, &owner)).await;
    assert_eq!(all.body["items"].as_array().unwrap().len(), 5);
    assert_eq!(all.body["next_cursor"], Value::Null);

    for bad in [
        "limit=0",
        "limit=501",
        "limit=abc",
        "cursor=garbage",
        "status=closed",
    ] {
        let res = app.send(get(&format!("{TENANTS}?{bad}"), &owner)).await;
        assert_eq!(
            res.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{bad}: {:?}",
            res.body
        );
        assert!(
            res.detail().starts_with("Validation failed"),
            "{bad}: {}",
            res.detail()
        );
        assert!(!res.error_fields().is_empty(), "{bad}");
    }
}

#[actix_web::test]
async fn invalid_bodies_are_400_or_422_with_details() {
    let app = TestApp::new();
    let (_, owner) = owner(&app);

    let malformed = app
        .send(
            TestRequest::post()
                .uri(TENANTS)
                .insert_header(bearer(&owner))
                .insert_header(("content-type", "application/json"))
                .set_payload("{\"name\": "),
        )
        .await;
    assert_eq!(malformed.status, StatusCode::BAD_REQUEST);
    assert!(
        malformed.detail().starts_with("Malformed JSON"),
        "{}",
        malformed.detail()
    );

    let bad = json!({"name": "  ", "slug": "Bad Slug", "subscription_tier": "gold", "max_users": 0,
                     "metadata": [1]});
    let res = app.send(post(TENANTS, &owner, &bad)).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.detail().contains("slug"), "{}", res.detail());
    let mut fields = res.error_fields();
    fields.sort();
    assert_eq!(
        fields,
        ["max_users", "metadata", "name", "slug", "subscription_tier"]
    );
    let tier_message = res.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["field"] == "subscription_tier")
        .unwrap()["message"]
        .clone();
    assert!(tier_message
        .as_str()
        .unwrap()
        .contains("starter, pro, enterprise"));

    for body in [
        json!({"name": "X", "slug": "ok-slug", "subscription_tier": "pro", "colour": "red"}),
        json!({"name": "X", "slug": "ok-slug"}),
        json!({"name": "X", "slug": "ok-slug", "subscription_tier": "pro", "max_users": "many"}),
    ] {
        let res = app.send(post(TENANTS, &owner, &body)).await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert!(!res.detail().is_empty() && !res.error_fields().is_empty());
    }

    let acme = app.create_tenant("acme", 5);
    let uri = format!("{TENANTS}/{acme}");
    for body in [
        json!({}),
        json!({"status": "closed"}),
        json!({"max_api_calls_per_day": -1}),
        json!({"id": "x"}),
    ] {
        let res = app.send(patch(&uri, &owner, &body)).await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert!(!res.error_fields().is_empty(), "{body}");
    }
    assert!(
        app.audit_entries(acme).is_empty(),
        "refused writes leave no success audit row"
    );
}

#[actix_web::test]
async fn the_platform_tenant_cannot_be_suspended_or_cancelled() {
    let app = TestApp::new();
    let (_, owner) = owner(&app);
    let uri = format!("{TENANTS}/{}", app.platform_tenant);
    let res = app
        .send(patch(&uri, &owner, &json!({"status": "suspended"})))
        .await;
    assert_eq!(res.status, StatusCode::CONFLICT);
    assert_eq!(
        app.send(delete(&uri, &owner)).await.status,
        StatusCode::CONFLICT
    );
    // The owner still works.
    assert_eq!(app.send(get(&uri, &owner)).await.body["status"], "active");
}

#[actix_web::test]
async fn staff_reads_only_assigned_tenants_and_never_writes() {
    let app = TestApp::new();
    let (_, owner) = owner(&app);
    let staff = app.create_platform_user("staff@platform.example", Role::Staff);
    let staff_token = app.token_for(staff, app.platform_tenant, Role::Staff);
    let assigned = app.create_tenant("assigned", 5);
    let other = app.create_tenant("other", 5);
    app.assign_staff(staff, assigned);

    let list = app.send(get(TENANTS, &staff_token)).await;
    assert_eq!(list.status, StatusCode::OK);
    let slugs: Vec<&str> = list.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["slug"].as_str().unwrap())
        .collect();
    assert_eq!(slugs, ["assigned"]);

    assert_eq!(
        app.send(get(&format!("{TENANTS}/{assigned}"), &staff_token))
            .await
            .status,
        StatusCode::OK
    );
    let hidden = app
        .send(get(&format!("{TENANTS}/{other}"), &staff_token))
        .await;
    assert_eq!(hidden.status, StatusCode::NOT_FOUND);

    let create = json!({"name": "New", "slug": "new-one", "subscription_tier": "pro"});
    let writes = [
        post(TENANTS, &staff_token, &create),
        patch(
            &format!("{TENANTS}/{assigned}"),
            &staff_token,
            &json!({"status": "suspended"}),
        ),
        patch(
            &format!("{TENANTS}/{other}"),
            &staff_token,
            &json!({"name": "x"}),
        ),
        delete(&format!("{TENANTS}/{assigned}"), &staff_token),
    ];
    for req in writes {
        let res = app.send(req).await;
        assert_eq!(res.status, StatusCode::FORBIDDEN, "{:?}", res.body);
        assert!(res.detail().starts_with("Forbidden"), "{}", res.detail());
    }
    assert_eq!(
        app.repos.tenants.get(assigned).unwrap().status.as_str(),
        "active"
    );
    let page = PageRequest::default();
    assert_eq!(
        app.repos
            .tenants
            .list(&Default::default(), &page)
            .unwrap()
            .items
            .len(),
        3
    );

    // The owner sees everything.
    let all = app.send(get(TENANTS, &owner)).await;
    assert_eq!(all.body["items"].as_array().unwrap().len(), 3);
}

#[actix_web::test]
async fn tenant_roles_and_anonymous_callers_are_refused() {
    let app = TestApp::new();
    let acme = app.create_tenant("acme", 10);
    let create = json!({"name": "New", "slug": "new-one", "subscription_tier": "pro"});
    for role in [Role::Admin, Role::Trader, Role::Viewer] {
        let (_, token) = app.user_with_token(acme, &format!("{role}@acme.example"), role);
        for req in [
            get(TENANTS, &token),
            get(&format!("{TENANTS}/{acme}"), &token),
            post(TENANTS, &token, &create),
            patch(&format!("{TENANTS}/{acme}"), &token, &json!({"name": "x"})),
            delete(&format!("{TENANTS}/{acme}"), &token),
        ] {
            let res = app.send(req).await;
            assert_eq!(res.status, StatusCode::FORBIDDEN, "{role}: {:?}", res.body);
        }
    }
    let anonymous = app.send(TestRequest::get().uri(TENANTS)).await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
    assert!(anonymous.header("www-authenticate").is_some());
    let forged = app.send(get(TENANTS, "not.a.token")).await;
    assert_eq!(forged.status, StatusCode::UNAUTHORIZED);
    assert!(forged.detail().starts_with("Unauthorized"));
}

#[actix_web::test]
async fn suspending_a_tenant_locks_its_users_out_at_once() {
    let app = TestApp::new();
    let (_, owner) = owner(&app);
    let acme = app.create_tenant("acme", 10);
    let (_, admin) = app.user_with_token(acme, "admin@acme.example", Role::Admin);

    // A first request caches the admin's principal verdict.
    assert_eq!(
        app.send(get("/api/v1/users", &admin)).await.status,
        StatusCode::OK
    );

    let uri = format!("{TENANTS}/{acme}");
    let res = app
        .send(patch(&uri, &owner, &json!({"status": "suspended"})))
        .await;
    assert_eq!(res.status, StatusCode::OK);
    let refused = app.send(get("/api/v1/users", &admin)).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(
        refused.detail().contains("suspended"),
        "{}",
        refused.detail()
    );

    // Reactivating lets them back in; cancelling locks them out again.
    app.send(patch(&uri, &owner, &json!({"status": "active"})))
        .await;
    assert_eq!(
        app.send(get("/api/v1/users", &admin)).await.status,
        StatusCode::OK
    );
    assert_eq!(
        app.send(delete(&uri, &owner)).await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        app.send(get("/api/v1/users", &admin)).await.status,
        StatusCode::FORBIDDEN
    );
}
