//! Shared harness of the API integration tests: a real PostgreSQL database per test (through
//! `alphapulse_persistence::testing::TestDb`), the production [`AppState`] over it, fixtures
//! written straight through the repositories, tokens from the state's own issuer, and request
//! helpers that answer status, headers and JSON body.
//!
//! Use it from a test file with `mod common;` and `use common::*;`.
#![allow(dead_code, unused_macros, unused_imports)]
#![allow(clippy::unwrap_used, clippy::expect_used)]

pub mod trading;

use std::{
    collections::HashMap,
    io,
    sync::{Arc, Mutex, OnceLock},
    time::Duration,
};

use actix_web::{
    body::MessageBody,
    dev::{Service, ServiceResponse},
    http::{header::HeaderMap, StatusCode},
    test,
};
use alphapulse_api::{password::hash_password, AppState, AuthConfig};
use alphapulse_domain::{
    ports::Actor, tenant::PLATFORM_SLUG, AuditEntry, Email, NewTenant, NewUser, PageRequest, Role,
    Slug, SubscriptionTier, TenantId, UserId,
};
use alphapulse_persistence::testing::TestDb;
use serde_json::Value;
use tenant_auth::KeySet;

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

/// One test's application: its own migrated database and the production state over it.
#[derive(Debug)]
pub struct TestApp {
    /// The state the app under test runs with (repositories usable directly). Declared
    /// before `db` so its pool closes before the database is dropped.
    pub state: AppState,
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
        let mut db = TestDb::new();
        let state = AppState::new(db.db(), auth_config()).expect("state");
        let platform = Slug::parse(PLATFORM_SLUG).expect("slug");
        let platform_tenant = state
            .tenants
            .find_by_slug(&platform)
            .expect("platform lookup")
            .expect("the platform tenant exists")
            .id;
        Self {
            state,
            db,
            platform_tenant,
        }
    }

    /// Sends one request to a fresh service over this app's state (state, database and the
    /// principal cache are shared between calls).
    pub async fn send(&self, req: test::TestRequest) -> JsonResponse {
        let svc = test_service!(self);
        call(&svc, req.to_request()).await
    }

    /// Creates an active `starter` tenant named after its slug.
    pub fn create_tenant(&self, slug: &str, max_users: i32) -> TenantId {
        self.state
            .tenants
            .create(NewTenant {
                name: format!("Tenant {slug}"),
                slug: Slug::parse(slug).expect("slug"),
                subscription_tier: SubscriptionTier::Starter,
                max_users: Some(max_users),
                max_api_calls_per_day: None,
                metadata: None,
            })
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
        self.state
            .users
            .create(&Actor::system(tenant), new, 10_000)
            .expect("create user")
            .id
    }

    /// Creates a platform user (`owner` or `staff`) in the platform tenant.
    pub fn create_platform_user(&self, email: &str, role: Role) -> UserId {
        self.create_user(self.platform_tenant, email, role, PASSWORD)
    }

    /// Assigns a platform `staff` user to a tenant.
    pub fn assign_staff(&self, staff: UserId, tenant: TenantId) {
        self.state
            .tenants
            .assign_staff(staff, tenant)
            .expect("assign staff");
    }

    /// A valid access token (900 s) signed by the app's own issuer.
    pub fn token_for(&self, user: UserId, tenant: TenantId, role: Role) -> String {
        self.state
            .issuer
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

    /// The newest audit entries of `tenant` (up to 500, newest first).
    pub fn audit_entries(&self, tenant: TenantId) -> Vec<AuditEntry> {
        let page = PageRequest::new(Some(500), None).expect("page");
        self.state
            .audit
            .list(&Actor::system(tenant), &page)
            .expect("audit list")
            .items
    }
}

impl Default for TestApp {
    fn default() -> Self {
        Self::new()
    }
}

/// A buffer that captures the log lines written on the current thread while a
/// [`LogBuffer::capture`] guard lives.
///
/// One global INFO subscriber is installed per test process and routes each line to the
/// buffer of the thread that wrote it. (Per-thread `set_default` subscribers are not reliable
/// when tests run in parallel: tracing caches callsite interest process-wide, so a callsite
/// first hit on a thread without a subscriber can stay disabled for the others.) The
/// `[Tenant] [User]` lines are written on the async worker, which in `#[actix_web::test]` is the
/// test thread.
#[derive(Debug, Clone, Default)]
pub struct LogBuffer(Arc<Mutex<Vec<u8>>>);

thread_local! {
    static CAPTURE: std::cell::RefCell<Option<LogBuffer>> = const { std::cell::RefCell::new(None) };
}

/// Stops capturing on drop.
pub struct CaptureGuard;

impl Drop for CaptureGuard {
    fn drop(&mut self) {
        CAPTURE.with(|c| *c.borrow_mut() = None);
    }
}

struct ThreadWriter;

impl io::Write for ThreadWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        CAPTURE.with(|c| {
            if let Some(buffer) = &*c.borrow() {
                buffer.0.lock().unwrap().extend_from_slice(buf);
            }
        });
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl LogBuffer {
    /// Everything written so far.
    pub fn contents(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }

    /// Captures this thread's log lines into the buffer until the guard is dropped.
    pub fn capture(&self) -> CaptureGuard {
        static GLOBAL: OnceLock<()> = OnceLock::new();
        GLOBAL.get_or_init(|| {
            let subscriber = tracing_subscriber::fmt()
                .with_ansi(false)
                .with_max_level(tracing::Level::INFO)
                .with_writer(|| ThreadWriter)
                .finish();
            // Another harness in the same process may have installed one already.
            let _ = tracing::subscriber::set_global_default(subscriber);
        });
        CAPTURE.with(|c| *c.borrow_mut() = Some(self.clone()));
        CaptureGuard
    }
}

impl io::Write for LogBuffer {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}
