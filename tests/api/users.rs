//! `/api/v1/users` against a real PostgreSQL: tenant isolation (another tenant's users are
//! invisible and 404), the admin/owner permission split, `max_users`, validation, audit rows,
//! token/tenant mismatches, and the `[Tenant: ..] [User: ..]` operation log lines.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::common::*;
use actix_web::{http::StatusCode, test::TestRequest};
use alphapulse_domain::{ports::Actor, Role, TenantId, UserId};
use serde_json::{json, Value};

const USERS: &str = "/api/v1/users";

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

fn emails(body: &Value) -> Vec<String> {
    let mut emails: Vec<String> = body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["email"].as_str().unwrap().to_owned())
        .collect();
    emails.sort();
    emails
}

/// Two tenants, each with an admin; returns (acme, acme admin token, beta, beta admin id).
fn two_tenants(app: &TestApp) -> (TenantId, String, TenantId, UserId) {
    let acme = app.create_tenant("acme", 10);
    let beta = app.create_tenant("beta", 10);
    let (_, acme_admin) = app.user_with_token(acme, "admin@acme.example", Role::Admin);
    let beta_admin = app.create_user(beta, "admin@beta.example", Role::Admin, PASSWORD);
    (acme, acme_admin, beta, beta_admin)
}

#[actix_web::test]
async fn admin_lists_only_own_tenant_users_page_by_page() {
    let app = TestApp::new();
    let (acme, admin, beta, _) = two_tenants(&app);
    app.create_user(acme, "trader@acme.example", Role::Trader, PASSWORD);
    app.create_user(acme, "viewer@acme.example", Role::Viewer, PASSWORD);
    app.create_user(beta, "trader@beta.example", Role::Trader, PASSWORD);

    let all = app.send(get(USERS, &admin)).await;
    assert_eq!(all.status, StatusCode::OK, "{:?}", all.body);
    assert_eq!(
        emails(&all.body),
        [
            "admin@acme.example",
            "trader@acme.example",
            "viewer@acme.example"
        ]
    );
    assert_eq!(all.body["next_cursor"], Value::Null);

    let first = app.send(get(&format!("{USERS}?limit=2"), &admin)).await;
    assert_eq!(first.body["items"].as_array().unwrap().len(), 2);
    let cursor = first.body["next_cursor"].as_str().expect("a next page");
    let second = app
        .send(get(&format!("{USERS}?limit=2&cursor={cursor}"), &admin))
        .await;
    assert_eq!(second.body["items"].as_array().unwrap().len(), 1);
    assert_eq!(second.body["next_cursor"], Value::Null);

    // Asking for another tenant is the owner's privilege: to anyone else it does not exist,
    // exactly like a tenant id that exists nowhere (no existence oracle).
    let other = app
        .send(get(&format!("{USERS}?tenant_id={beta}"), &admin))
        .await;
    assert_eq!(other.status, StatusCode::NOT_FOUND);
    let nowhere = app
        .send(get(
            &format!("{USERS}?tenant_id={}", uuid::Uuid::new_v4()),
            &admin,
        ))
        .await;
    assert_eq!(
        (nowhere.status, nowhere.detail()),
        (other.status, other.detail())
    );
    let own = app
        .send(get(&format!("{USERS}?tenant_id={acme}"), &admin))
        .await;
    assert_eq!(own.status, StatusCode::OK);
}

#[actix_web::test]
async fn admin_creates_users_without_leaking_hash_or_tenant() {
    let app = TestApp::new();
    let (acme, admin, ..) = two_tenants(&app);
    let body =
        json!({"email": "New.Trader@Acme.Example", "password": "long enough pw", "role": "trader"});
    let created = app.send(post(USERS, &admin, &body)).await;
    assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
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
        ["active", "created_at", "email", "id", "role", "updated_at"]
    );
    assert_eq!(created.body["email"], "new.trader@acme.example");
    assert_eq!(created.body["role"], "trader");
    assert_eq!(created.body["active"], true);
    let raw = created.body.to_string();
    assert!(
        !raw.contains("argon2") && !raw.contains("password") && !raw.contains(&acme.to_string())
    );

    // The new user exists in acme and can authenticate with the stored hash.
    let id: UserId = created.body["id"].as_str().unwrap().parse().unwrap();
    let stored = app.repos.users.get(&Actor::system(acme), id).unwrap();
    assert_eq!(stored.role, Role::Trader);
    let email = alphapulse_domain::Email::parse("new.trader@acme.example").unwrap();
    let creds = app.repos.users.find_credentials(&email).unwrap().unwrap();
    assert!(alphapulse_admin::password::verify_password(
        "long enough pw",
        &creds.password_hash
    ));

    // The e-mail is unique and case-insensitive; within the tenant the answer says so.
    let dup =
        json!({"email": "NEW.TRADER@acme.example", "password": "another pw!", "role": "viewer"});
    let conflict = app.send(post(USERS, &admin, &dup)).await;
    assert_eq!(conflict.status, StatusCode::CONFLICT);
    assert!(
        conflict.detail().to_lowercase().contains("email"),
        "{}",
        conflict.detail()
    );

    let entries = app.audit_entries(acme);
    assert_eq!(
        entries.len(),
        1,
        "one success row for the one successful write"
    );
    assert_eq!(entries[0].action, "user.create");
    assert_eq!(entries[0].target, format!("user:{id}"));
    assert!(entries[0]
        .request_id
        .as_deref()
        .is_some_and(|r| !r.is_empty()));
    assert!(!entries[0].details.to_string().contains("long enough pw"));
}

#[actix_web::test]
async fn another_tenants_email_is_a_generic_422_that_reveals_nothing() {
    let app = TestApp::new();
    let (_, acme_admin, ..) = two_tenants(&app);
    // beta's admin address: the answer must look like any other unusable input, never like
    // a conflict that would confirm the address exists somewhere on the platform.
    let taken =
        json!({"email": "Admin@Beta.example", "password": "long enough pw", "role": "viewer"});
    let res = app.send(post(USERS, &acme_admin, &taken)).await;
    assert_eq!(
        res.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{:?}",
        res.body
    );
    let raw = res.body.to_string().to_lowercase();
    assert!(
        !raw.contains("beta") && !raw.contains("exist") && !raw.contains("regist"),
        "{raw}"
    );
    assert_eq!(res.body["errors"][0]["field"], "email", "{raw}");
    // Nothing was written in either tenant.
    let list = app.send(get(USERS, &acme_admin)).await;
    assert_eq!(emails(&list.body), ["admin@acme.example"]);
}

#[actix_web::test]
async fn audit_rows_record_the_servers_request_id_and_keep_the_clients() {
    let app = TestApp::new();
    let (acme, admin, ..) = two_tenants(&app);
    let body = json!({"email": "x@acme.example", "password": "long enough pw", "role": "viewer"});
    let res = app
        .send(post(USERS, &admin, &body).insert_header(("x-request-id", "client-chosen-1")))
        .await;
    assert_eq!(res.status, StatusCode::CREATED);
    assert_eq!(res.header("x-request-id"), Some("client-chosen-1"));
    let entries = app.audit_entries(acme);
    let row = entries.iter().find(|e| e.action == "user.create").unwrap();
    let server = row.request_id.as_deref().unwrap();
    assert_ne!(server, "client-chosen-1");
    assert!(uuid::Uuid::parse_str(server).is_ok(), "{server}");
    assert_eq!(row.details["client_request_id"], "client-chosen-1");
}

#[actix_web::test]
async fn max_users_is_enforced_with_403() {
    let app = TestApp::new();
    let small = app.create_tenant("small", 2);
    let (_, admin) = app.user_with_token(small, "admin@small.example", Role::Admin);
    let body = |n: u32| json!({"email": format!("u{n}@small.example"), "password": "password-1", "role": "viewer"});
    assert_eq!(
        app.send(post(USERS, &admin, &body(1))).await.status,
        StatusCode::CREATED
    );
    let full = app.send(post(USERS, &admin, &body(2))).await;
    assert_eq!(full.status, StatusCode::FORBIDDEN);
    assert!(full.detail().contains("maximum of 2"), "{}", full.detail());
    let listed = app.send(get(USERS, &admin)).await;
    assert_eq!(listed.body["items"].as_array().unwrap().len(), 2);
}

#[actix_web::test]
async fn invalid_user_input_is_422_and_malformed_json_400() {
    let app = TestApp::new();
    let (acme, admin, ..) = two_tenants(&app);

    let all_bad = json!({"email": "not-an-email", "password": "short", "role": "superuser"});
    let res = app.send(post(USERS, &admin, &all_bad)).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        res.detail().starts_with("Validation failed"),
        "{}",
        res.detail()
    );
    assert_eq!(res.error_fields(), ["email", "password", "role"]);

    for (body, field) in [
        (
            json!({"email": "a@b", "password": "password-1", "role": "viewer"}),
            "email",
        ),
        (
            json!({"email": "ok@acme.example", "password": "1234567", "role": "viewer"}),
            "password",
        ),
        (
            json!({"email": "ok@acme.example", "password": "password-1", "role": "Admin"}),
            "role",
        ),
        (
            json!({"email": "ok@acme.example", "password": "password-1"}),
            "body",
        ),
        (
            json!({"email": "ok@acme.example", "password": "password-1", "role": "viewer", "tenant_id": acme}),
            "body",
        ),
    ] {
        let res = app.send(post(USERS, &admin, &body)).await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(res.error_fields(), [field], "{body}");
    }

    let malformed = app
        .send(
            TestRequest::post()
                .uri(USERS)
                .insert_header(bearer(&admin))
                .insert_header(("content-type", "application/json"))
                .set_payload("{not json"),
        )
        .await;
    assert_eq!(malformed.status, StatusCode::BAD_REQUEST);
    assert!(!malformed.detail().is_empty());

    let someone = app.create_user(acme, "someone@acme.example", Role::Viewer, PASSWORD);
    for body in [json!({}), json!({"role": "root"}), json!({"active": "yes"})] {
        let res = app
            .send(patch(&format!("{USERS}/{someone}"), &admin, &body))
            .await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert!(!res.error_fields().is_empty());
    }
    assert!(app.audit_entries(acme).is_empty());
}

#[actix_web::test]
async fn roles_stay_on_their_side_of_the_platform_line() {
    let app = TestApp::new();
    let (acme, admin, ..) = two_tenants(&app);
    let owner = app.create_platform_user("owner@platform.example", Role::Owner);
    let owner_token = app.token_for(owner, app.platform_tenant, Role::Owner);

    // A tenant admin can never mint a platform account: 403.
    for role in ["owner", "staff"] {
        let body = json!({"email": format!("{role}@acme.example"), "password": "password-1", "role": role});
        let res = app.send(post(USERS, &admin, &body)).await;
        assert_eq!(res.status, StatusCode::FORBIDDEN, "{role}");
    }
    let viewer = app.create_user(acme, "viewer@acme.example", Role::Viewer, PASSWORD);
    let res = app
        .send(patch(
            &format!("{USERS}/{viewer}"),
            &admin,
            &json!({"role": "owner"}),
        ))
        .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    assert_eq!(
        app.repos
            .users
            .get(&Actor::system(acme), viewer)
            .unwrap()
            .role,
        Role::Viewer
    );

    // The owner: platform roles in the platform tenant only, tenant roles elsewhere only.
    let staff =
        json!({"email": "staff@platform.example", "password": "password-1", "role": "staff"});
    assert_eq!(
        app.send(post(USERS, &owner_token, &staff)).await.status,
        StatusCode::CREATED
    );
    let admin_in_platform =
        json!({"email": "x@platform.example", "password": "password-1", "role": "admin"});
    let res = app
        .send(post(USERS, &owner_token, &admin_in_platform))
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(res.error_fields(), ["role"]);
    let owner_in_acme =
        json!({"email": "o@acme.example", "password": "password-1", "role": "owner"});
    let res = app
        .send(post(
            &format!("{USERS}?tenant_id={acme}"),
            &owner_token,
            &owner_in_acme,
        ))
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[actix_web::test]
async fn patching_another_tenants_user_is_404_and_changes_nothing() {
    let app = TestApp::new();
    let (acme, admin, beta, beta_admin) = two_tenants(&app);
    let before = app
        .repos
        .users
        .get(&Actor::system(beta), beta_admin)
        .unwrap();

    for body in [json!({"active": false}), json!({"role": "viewer"})] {
        let res = app
            .send(patch(&format!("{USERS}/{beta_admin}"), &admin, &body))
            .await;
        assert_eq!(res.status, StatusCode::NOT_FOUND, "{body}");
        assert!(!res.detail().contains(&beta.to_string()));
    }
    let unknown = app
        .send(patch(
            &format!("{USERS}/{}", uuid::Uuid::new_v4()),
            &admin,
            &json!({"active": false}),
        ))
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert_eq!(
        app.repos
            .users
            .get(&Actor::system(beta), beta_admin)
            .unwrap(),
        before
    );
    assert!(app.audit_entries(beta).is_empty() && app.audit_entries(acme).is_empty());
}

#[actix_web::test]
async fn admin_changes_role_and_deactivates_with_immediate_effect() {
    let app = TestApp::new();
    let (acme, admin, ..) = two_tenants(&app);
    let (trader, trader_token) = app.user_with_token(acme, "trader@acme.example", Role::Trader);
    assert_eq!(
        app.send(get(USERS, &trader_token)).await.status,
        StatusCode::FORBIDDEN
    );

    let uri = format!("{USERS}/{trader}");
    let res = app
        .send(patch(&uri, &admin, &json!({"role": "viewer"})))
        .await;
    assert_eq!(res.status, StatusCode::OK, "{:?}", res.body);
    assert_eq!(res.body["role"], "viewer");
    assert!(res.body.get("tenant_id").is_none());
    // The old token carries the old role: rejected at once.
    let stale = app.send(get(USERS, &trader_token)).await;
    assert_eq!(stale.status, StatusCode::UNAUTHORIZED);

    let res = app
        .send(patch(&uri, &admin, &json!({"active": false})))
        .await;
    assert_eq!(res.body["active"], false);
    let fresh = app.token_for(trader, acme, Role::Viewer);
    assert_eq!(
        app.send(get(USERS, &fresh)).await.status,
        StatusCode::UNAUTHORIZED
    );

    let actions: Vec<String> = app
        .audit_entries(acme)
        .into_iter()
        .map(|e| e.action)
        .collect();
    assert_eq!(actions, ["user.update", "user.update"]);

    // No self-lockout.
    let me = app
        .repos
        .users
        .list(&Actor::system(acme), &Default::default())
        .unwrap();
    let me = me
        .items
        .iter()
        .find(|u| u.email.as_str() == "admin@acme.example")
        .unwrap()
        .id;
    for body in [json!({"active": false}), json!({"role": "viewer"})] {
        let res = app
            .send(patch(&format!("{USERS}/{me}"), &admin, &body))
            .await;
        assert_eq!(res.status, StatusCode::CONFLICT, "{body}");
    }
}

#[actix_web::test]
async fn traders_and_viewers_are_forbidden() {
    let app = TestApp::new();
    let acme = app.create_tenant("acme", 10);
    let target = app.create_user(acme, "target@acme.example", Role::Viewer, PASSWORD);
    for role in [Role::Trader, Role::Viewer] {
        let (_, token) = app.user_with_token(acme, &format!("{role}@acme.example"), role);
        let body = json!({"email": "n@acme.example", "password": "password-1", "role": "viewer"});
        for req in [
            get(USERS, &token),
            post(USERS, &token, &body),
            patch(
                &format!("{USERS}/{target}"),
                &token,
                &json!({"active": false}),
            ),
        ] {
            let res = app.send(req).await;
            assert_eq!(res.status, StatusCode::FORBIDDEN, "{role}");
            assert!(res.detail().starts_with("Forbidden"));
        }
    }
    assert!(
        app.repos
            .users
            .get(&Actor::system(acme), target)
            .unwrap()
            .active
    );
}

#[actix_web::test]
async fn owner_acts_on_any_tenant_with_tenant_id() {
    let app = TestApp::new();
    let (_, _, beta, beta_admin) = two_tenants(&app);
    let owner = app.create_platform_user("owner@platform.example", Role::Owner);
    let token = app.token_for(owner, app.platform_tenant, Role::Owner);

    let own = app.send(get(USERS, &token)).await;
    assert_eq!(emails(&own.body), ["owner@platform.example"]);
    let listed = app
        .send(get(&format!("{USERS}?tenant_id={beta}"), &token))
        .await;
    assert_eq!(listed.status, StatusCode::OK);
    assert_eq!(emails(&listed.body), ["admin@beta.example"]);
    let unknown = app
        .send(get(
            &format!("{USERS}?tenant_id={}", uuid::Uuid::new_v4()),
            &token,
        ))
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);

    let body = json!({"email": "t@beta.example", "password": "password-1", "role": "trader"});
    let created = app
        .send(post(&format!("{USERS}?tenant_id={beta}"), &token, &body))
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
    let res = app
        .send(patch(
            &format!("{USERS}/{beta_admin}?tenant_id={beta}"),
            &token,
            &json!({"active": false}),
        ))
        .await;
    assert_eq!(res.status, StatusCode::OK);
    // Without tenant_id the owner acts on the platform tenant, where beta's admin is unknown.
    let res = app
        .send(patch(
            &format!("{USERS}/{beta_admin}"),
            &token,
            &json!({"active": true}),
        ))
        .await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);

    // Recorded under the tenant acted on, by the owner.
    let entries = app.audit_entries(beta);
    let actions: Vec<&str> = entries.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(actions, ["user.update", "user.create"]);
    assert!(entries.iter().all(|e| e.user_id == Some(owner)));
    assert!(app.audit_entries(app.platform_tenant).is_empty());
}

#[actix_web::test]
async fn a_token_for_another_tenant_is_401() {
    let app = TestApp::new();
    let (acme, _, beta, _) = two_tenants(&app);
    let admin = app.create_user(acme, "second@acme.example", Role::Admin, PASSWORD);
    // Validly signed, but the user is not in the token's tenant.
    let token = app.token_for(admin, beta, Role::Admin);
    let res = app.send(get(USERS, &token)).await;
    assert_eq!(res.status, StatusCode::UNAUTHORIZED);
    assert!(res.detail().starts_with("Unauthorized"), "{}", res.detail());
    assert_eq!(
        res.header("www-authenticate"),
        Some("Bearer error=\"invalid_token\"")
    );
    // An unknown user, too.
    let ghost = app.token_for(UserId::new_random(), acme, Role::Admin);
    assert_eq!(
        app.send(get(USERS, &ghost)).await.status,
        StatusCode::UNAUTHORIZED
    );
}

#[actix_web::test]
#[tracing_test::traced_test]
async fn operations_log_tenant_and_user() {
    let app = TestApp::new();
    let acme = app.create_tenant("acme", 10);
    let (admin, token) = app.user_with_token(acme, "admin@acme.example", Role::Admin);

    assert_eq!(app.send(get(USERS, &token)).await.status, StatusCode::OK);
    let bad = json!({"email": "bad", "password": "password-1", "role": "viewer"});
    assert_eq!(
        app.send(post(USERS, &token, &bad)).await.status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    let prefix = format!("[Tenant: {acme}] [User: {admin}]");
    for line in [
        "list users started",
        "list users completed",
        "create user started",
        "create user failed",
    ] {
        assert!(
            logs_contain(&format!("{prefix} {line}")),
            "missing `{prefix} {line}`"
        );
    }
}
