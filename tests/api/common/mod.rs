//! Shared harness of the API integration tests: a real PostgreSQL database per test (through
//! `alphapulse_persistence::testing::TestDb`), the production [`AppState`] over it, fixtures
//! written straight through the repositories, tokens from the state's own issuer, and request
//! helpers that answer status, headers and JSON body.
//!
//! Use it from a test module with `use super::common::*;`.
#![allow(dead_code, unused_macros, unused_imports)]

pub mod console;
pub mod trading;

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, OnceLock},
    time::Duration,
};

use actix_web::{
    body::MessageBody,
    dev::{Service, ServiceResponse},
    http::{header::HeaderMap, StatusCode},
    test,
};
use alphapulse::{
    auth::AuthConfig,
    compose::{self, Settings},
};
use alphapulse_admin::password::hash_password;
use alphapulse_api::AppState;
use alphapulse_domain::{
    ports::Actor, tenant::PLATFORM_SLUG, AuditEntry, AuditNote, Email, NewTenant, NewUser,
    PageRequest, Role, Slug, SubscriptionTier, TenantId, UserId,
};
pub use alphapulse_domain::{
    ports::{AuditRepo, TenantRepo, UserRepo},
    TextEnum,
};
use alphapulse_persistence::{testing::TestDb, Db, PgAuditRepo, PgTenantRepo, PgUserRepo};
use serde_json::Value;
use tenant_auth::{KeySet, TokenIssuer};

/// `iss` of the test tokens.
pub const ISSUER: &str = "alphapulse";
/// `aud` of the test tokens.
pub const AUDIENCE: &str = "alphapulse-api";
/// The HS256 secret of the test key (`kid` `test`).
pub const SECRET: &[u8] = b"alphapulse-test-secret-0123456789-abcdef";
/// A password every fixture user may share.
pub const PASSWORD: &str = "correct horse battery";

/// Token settings of the tests: HS256 `test` key, 900 s tokens, 30 s leeway, 1000 logins/min.
pub fn auth_config() -> AuthConfig {
    AuthConfig {
        keys: KeySet::hs256("test", SECRET).expect("test key"),
        issuer: ISSUER.to_owned(),
        audience: AUDIENCE.to_owned(),
        token_ttl: Duration::from_secs(900),
        leeway: Duration::from_secs(30),
        login_per_minute: 1000,
    }
}

/// The audit action of fixture writes; [`TestApp::audit_entries`] leaves these rows out, so
/// tests see exactly the rows the API wrote.
pub const FIXTURE: &str = "fixture";

/// The audit note of a fixture write.
pub fn fixture_note() -> AuditNote {
    AuditNote {
        user_id: None,
        action: FIXTURE.to_owned(),
        request_id: None,
        details: serde_json::json!({}),
    }
}

/// The composition settings of the tests (the binary's defaults, the test key).
pub fn settings() -> Settings {
    Settings::new(auth_config())
}

/// [`settings`] with the burst limits out of the way, for tests about something else that send
/// many requests of one tenant in a short time (tests/api/quotas.rs tests the limits).
pub fn roomy_settings() -> Settings {
    let roomy = alphapulse_admin::Bucket {
        per_second: std::num::NonZeroU32::new(100_000).expect("non-zero"),
        burst: std::num::NonZeroU32::new(100_000).expect("non-zero"),
    };
    let mut settings = settings();
    settings.burst = alphapulse_admin::BurstLimits {
        starter: roomy,
        pro: roomy,
        enterprise: roomy,
    };
    settings
}

/// Repositories over the test database, for fixtures and for reading what the API wrote.
#[derive(Debug)]
pub struct Repos {
    /// The pool.
    pub db: Db,
    /// Tenants.
    pub tenants: PgTenantRepo,
    /// Users.
    pub users: PgUserRepo,
    /// Audit log.
    pub audit: PgAuditRepo,
}

/// One test's application: its own migrated database and the production state over it.
#[derive(Debug)]
pub struct TestApp {
    /// The state the app under test runs with, composed as the binary composes it.
    /// Declared before `db` so its pool closes before the database is dropped.
    pub state: AppState,
    /// Repositories for fixtures.
    pub repos: Repos,
    /// Signs test tokens with the app's key.
    pub issuer: TokenIssuer,
    /// Keeps the database alive (dropped at the end of the test).
    pub db: TestDb,
    /// The platform tenant (created by the first migration).
    pub platform_tenant: TenantId,
}

/// An in-process service of `app` (a [`TestApp`]); keep it for several requests:
/// `let svc = test_service!(app); let res = call(&svc, req.to_request()).await;`.
macro_rules! test_service {
    ($app:expr) => {
        actix_web::test::init_service(alphapulse_api::app($app.state.clone())).await
    };
}
pub(crate) use test_service;

/// How many tenant reads of this test have run on async connections so far (its log lines of
/// `persistence::AsyncReads`). Only inside a `#[tracing_test::traced_test]` test, whose
/// `logs_assert` it calls.
macro_rules! async_reads {
    () => {{
        let n = std::cell::Cell::new(0);
        logs_assert(|lines: &[&str]| {
            n.set(
                lines
                    .iter()
                    .filter(|l| l.contains("tenant read on an async connection"))
                    .count(),
            );
            Ok(())
        });
        n.get()
    }};
}
pub(crate) use async_reads;

/// A response, read completely.
#[derive(Debug)]
pub struct JsonResponse {
    /// Status code.
    pub status: StatusCode,
    /// Response headers.
    pub headers: HeaderMap,
    /// The body as JSON (`Value::Null` when empty; a JSON string when it is not JSON).
    pub body: Value,
}

impl JsonResponse {
    /// A header as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The `detail` of an error body.
    pub fn detail(&self) -> &str {
        self.body["detail"].as_str().unwrap_or_default()
    }

    /// The field names of a 422's `errors`.
    pub fn error_fields(&self) -> Vec<String> {
        self.body["errors"]
            .as_array()
            .map(|errors| {
                errors
                    .iter()
                    .filter_map(|e| e["field"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// Sends `req` (e.g. `TestRequest::get().uri(..).to_request()`) to `svc` and reads the answer.
pub async fn call<S, R, B>(svc: &S, req: R) -> JsonResponse
where
    S: Service<R, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let res = test::call_service(svc, req).await;
    let (status, headers) = (res.status(), res.headers().clone());
    let bytes = test::read_body(res).await;
    let body = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()))
    };
    JsonResponse {
        status,
        headers,
        body,
    }
}

/// The `Authorization` header of `token`.
pub fn bearer(token: &str) -> (&'static str, String) {
    ("Authorization", format!("Bearer {token}"))
}

fn hash_cached(password: &str) -> String {
    // argon2 is deliberately slow; fixtures reuse one hash per password.
    static HASHES: OnceLock<Mutex<HashMap<String, String>>> = OnceLock::new();
    let cache = HASHES.get_or_init(Default::default);
    if let Some(hash) = cache.lock().unwrap().get(password) {
        return hash.clone();
    }
    let hash = hash_password(password).expect("hash");
    cache
        .lock()
        .unwrap()
        .insert(password.to_owned(), hash.clone());
    hash
}

impl TestApp {
    /// A fresh database and state.
    pub fn new() -> Self {
        Self::with_settings(&settings())
    }

    /// A fresh database and a state composed with `settings`.
    pub fn with_settings(settings: &Settings) -> Self {
        let mut db = TestDb::new();
        let pool = db.db();
        let state = compose::app_state(&pool, settings).expect("state");
        let repos = Repos {
            tenants: PgTenantRepo::new(pool.clone()),
            users: PgUserRepo::new(pool.clone()),
            audit: PgAuditRepo::new(pool.clone()),
            db: pool,
        };
        let platform = Slug::parse(PLATFORM_SLUG).expect("slug");
        let platform_tenant = repos
            .tenants
            .find_by_slug(&platform)
            .expect("platform lookup")
            .expect("the platform tenant exists")
            .id;
        Self {
            state,
            repos,
            issuer: settings.auth.issuer().expect("issuer"),
            db,
            platform_tenant,
        }
    }

    /// Recomposes the state over the same database with other settings.
    pub fn recompose(&mut self, settings: &Settings) {
        self.state = compose::app_state(&self.repos.db, settings).expect("state");
    }

    /// Sends one request to a fresh service over this app's state (state, database and the
    /// principal cache are shared between calls).
    pub async fn send(&self, req: test::TestRequest) -> JsonResponse {
        let svc = test_service!(self);
        call(&svc, req.to_request()).await
    }

    /// Creates an active `starter` tenant named after its slug.
    pub fn create_tenant(&self, slug: &str, max_users: i32) -> TenantId {
        self.repos
            .tenants
            .create(
                NewTenant {
                    name: format!("Tenant {slug}"),
                    slug: Slug::parse(slug).expect("slug"),
                    subscription_tier: SubscriptionTier::Starter,
                    max_users: Some(max_users),
                    max_api_calls_per_day: None,
                    metadata: None,
                },
                &fixture_note(),
            )
            .expect("create tenant")
            .id
    }

    /// Creates an active user with `role` and `password` (limit-free: up to 10 000 users).
    pub fn create_user(&self, tenant: TenantId, email: &str, role: Role, password: &str) -> UserId {
        let new = NewUser {
            tenant_id: tenant,
            email: Email::parse(email).expect("email"),
            password_hash: hash_cached(password),
            role,
        };
        self.repos
            .users
            .create(&Actor::system(tenant), new, 10_000, &fixture_note())
            .expect("create user")
            .id
    }

    /// Creates a platform user (`owner` or `staff`) in the platform tenant.
    pub fn create_platform_user(&self, email: &str, role: Role) -> UserId {
        self.create_user(self.platform_tenant, email, role, PASSWORD)
    }

    /// Assigns a platform `staff` user to a tenant.
    pub fn assign_staff(&self, staff: UserId, tenant: TenantId) {
        self.repos
            .tenants
            .assign_staff(staff, tenant)
            .expect("assign staff");
    }

    /// A valid access token (900 s) signed by the app's own issuer.
    pub fn token_for(&self, user: UserId, tenant: TenantId, role: Role) -> String {
        self.issuer
            .issue(
                user.as_uuid(),
                tenant.as_uuid(),
                role,
                Duration::from_secs(900),
            )
            .expect("token")
    }

    /// Creates a user and returns it with a token.
    pub fn user_with_token(&self, tenant: TenantId, email: &str, role: Role) -> (UserId, String) {
        let user = self.create_user(tenant, email, role, PASSWORD);
        (user, self.token_for(user, tenant, role))
    }

    /// The newest audit entries the API wrote for `tenant` (up to 500, newest first; fixture
    /// rows left out).
    pub fn audit_entries(&self, tenant: TenantId) -> Vec<AuditEntry> {
        let page = PageRequest::new(Some(500), None).expect("page");
        self.repos
            .audit
            .list(&Actor::system(tenant), &page)
            .expect("audit list")
            .items
            .into_iter()
            .filter(|e| e.action != FIXTURE)
            .collect()
    }
}

impl Default for TestApp {
    fn default() -> Self {
        Self::new()
    }
}
