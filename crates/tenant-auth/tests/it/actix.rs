//! The actix-web extractor and its JSON error contract.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::common::*;
use actix_web::dev::ServiceResponse;
use actix_web::http::StatusCode;
use actix_web::{test, web, App, HttpRequest, HttpResponse};
use serde_json::{json, Value};
use tenant_auth::actix::{
    perm, principal_check_fn, Authenticator, Authorized, HttpAuthError, PrincipalCheck,
    PrincipalCheckFuture, PrincipalRejection,
};
use tenant_auth::{AuthError, Claims, Permission, Role, TenantContext, TokenIssuer};
use uuid::Uuid;

fn token(role: Role) -> (String, Uuid, Uuid) {
    let (user, tenant) = (Uuid::new_v4(), Uuid::new_v4());
    let issuer = TokenIssuer::new(hs_keys(), ISS, AUD).unwrap();
    (
        issuer
            .issue(user, tenant, role, Duration::from_secs(300))
            .unwrap(),
        user,
        tenant,
    )
}

async fn whoami(ctx: TenantContext) -> HttpResponse {
    HttpResponse::Ok().json(ctx)
}

async fn trade_with_require(
    req: HttpRequest,
    ctx: TenantContext,
) -> Result<HttpResponse, HttpAuthError> {
    ctx.require(Permission::Trade)
        .map_err(|e| HttpAuthError::from_request(e, &req))?;
    Ok(HttpResponse::Ok().body("traded"))
}

async fn trade_with_plain_error(ctx: TenantContext) -> Result<HttpResponse, actix_web::Error> {
    ctx.require(Permission::Trade)?;
    Ok(HttpResponse::Ok().body("traded"))
}

async fn trade_typed(ctx: Authorized<perm::Trade>) -> HttpResponse {
    HttpResponse::Ok().body(format!("traded for {}", ctx.tenant_id))
}

async fn email(claims: Claims, ctx: TenantContext) -> HttpResponse {
    assert_eq!(ctx, TenantContext::from(&claims));
    HttpResponse::Ok().body(claims.email.unwrap_or_default())
}

fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/whoami", web::get().to(whoami))
        .route("/trade", web::post().to(trade_with_require))
        .route("/trade-plain", web::post().to(trade_with_plain_error))
        .route("/trade-typed", web::post().to(trade_typed))
        .route("/email", web::get().to(email));
}

fn authenticator() -> Authenticator {
    Authenticator::new(verifier(hs_keys()))
}

async fn call(auth: Authenticator, req: test::TestRequest) -> ServiceResponse {
    let app = test::init_service(App::new().app_data(web::Data::new(auth)).configure(routes)).await;
    test::call_service(&app, req.to_request()).await
}

fn header(resp: &ServiceResponse, name: &str) -> Option<String> {
    resp.headers()
        .get(name)
        .map(|v| v.to_str().unwrap().to_owned())
}

async fn body_json(resp: ServiceResponse) -> Value {
    let bytes = test::read_body(resp).await;
    serde_json::from_slice(&bytes)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&bytes)))
}

fn get(path: &str, bearer: Option<&str>) -> test::TestRequest {
    let mut req = test::TestRequest::get()
        .uri(path)
        .insert_header(("x-request-id", "req-42"));
    if let Some(t) = bearer {
        req = req.insert_header(("Authorization", format!("Bearer {t}")));
    }
    req
}

#[actix_web::test]
async fn valid_token_yields_tenant_context() {
    let (tok, user, tenant) = token(Role::Trader);
    let resp = call(authenticator(), get("/whoami", Some(&tok))).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(
        body_json(resp).await,
        json!({"tenant_id": tenant.to_string(), "user_id": user.to_string(), "role": "trader"})
    );
}

#[actix_web::test]
async fn bearer_scheme_is_case_insensitive() {
    let (tok, ..) = token(Role::Viewer);
    for scheme in ["bearer", "BEARER", "BeArEr"] {
        let req = test::TestRequest::get()
            .uri("/whoami")
            .insert_header(("Authorization", format!("{scheme}   {tok}")));
        assert_eq!(
            call(authenticator(), req).await.status(),
            StatusCode::OK,
            "{scheme}"
        );
    }
}

#[actix_web::test]
async fn missing_token_is_401_with_plain_bearer_challenge() {
    let resp = call(authenticator(), get("/whoami", None)).await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(header(&resp, "www-authenticate").as_deref(), Some("Bearer"));
    assert_eq!(
        header(&resp, "content-type").as_deref(),
        Some("application/json")
    );
    assert_eq!(
        body_json(resp).await,
        json!({"detail": "Unauthorized: missing bearer token", "request_id": "req-42"})
    );

    // Another scheme, or an empty bearer token, counts as missing.
    for value in ["Basic dXNlcjpwYXNz", "Bearer", "Bearer    "] {
        let req = get("/whoami", None).insert_header(("Authorization", value));
        let resp = call(authenticator(), req).await;
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED, "{value}");
        assert_eq!(
            header(&resp, "www-authenticate").as_deref(),
            Some("Bearer"),
            "{value}"
        );
    }
}

#[actix_web::test]
async fn bad_token_is_401_invalid_token() {
    let (tok, ..) = token(Role::Admin);
    let mut payload = decode_payload(&tok);
    payload["role"] = json!("owner");
    let forged = with_payload(&tok, &payload);
    let cases = [
        ("garbage", "Unauthorized: malformed token".to_owned()),
        (
            forged.as_str(),
            "Unauthorized: invalid token signature".to_owned(),
        ),
    ];
    for (bearer, detail) in cases {
        let resp = call(authenticator(), get("/whoami", Some(bearer))).await;
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(
            header(&resp, "www-authenticate").as_deref(),
            Some("Bearer error=\"invalid_token\"")
        );
        assert_eq!(
            body_json(resp).await,
            json!({"detail": detail, "request_id": "req-42"})
        );
    }

    // Expired (issued in 2023 with a 60 s TTL).
    let old = TokenIssuer::new(hs_keys(), ISS, AUD)
        .unwrap()
        .issue_at(
            Uuid::new_v4(),
            Uuid::new_v4(),
            Role::Admin,
            Duration::from_secs(60),
            NOW,
        )
        .unwrap();
    let resp = call(authenticator(), get("/whoami", Some(&old))).await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        header(&resp, "www-authenticate").as_deref(),
        Some("Bearer error=\"invalid_token\"")
    );
    assert_eq!(
        body_json(resp).await["detail"],
        "Unauthorized: token expired"
    );
}

#[actix_web::test]
async fn request_id_is_empty_without_header() {
    let req = test::TestRequest::get().uri("/whoami");
    let resp = call(authenticator(), req).await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(body_json(resp).await["request_id"], "");
}

/// Returns a fixed verdict and counts its calls.
struct ScriptedCheck {
    calls: Arc<AtomicUsize>,
    verdict: Option<PrincipalRejection>,
}

impl PrincipalCheck for ScriptedCheck {
    fn check<'a>(&'a self, _ctx: &'a TenantContext) -> PrincipalCheckFuture<'a> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        Box::pin(async move { self.verdict.clone().map_or(Ok(()), Err) })
    }
}

fn with_check(verdict: Option<PrincipalRejection>) -> (Authenticator, Arc<AtomicUsize>) {
    let calls = Arc::new(AtomicUsize::new(0));
    let auth = authenticator().with_principal_check(ScriptedCheck {
        calls: calls.clone(),
        verdict,
    });
    (auth, calls)
}

#[actix_web::test]
async fn principal_check_forbidden_is_403() {
    let (tok, ..) = token(Role::Admin);
    let (auth, calls) = with_check(Some(PrincipalRejection::Forbidden(
        "tenant suspended".into(),
    )));
    let resp = call(auth, get("/whoami", Some(&tok))).await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    assert_eq!(header(&resp, "www-authenticate"), None);
    assert_eq!(
        body_json(resp).await,
        json!({"detail": "Forbidden: tenant suspended", "request_id": "req-42"})
    );
    assert_eq!(calls.load(Ordering::SeqCst), 1);
}

#[actix_web::test]
async fn principal_check_unauthorized_is_401() {
    let (tok, ..) = token(Role::Admin);
    let (auth, _) = with_check(Some(PrincipalRejection::Unauthorized(
        "user disabled".into(),
    )));
    let resp = call(auth, get("/whoami", Some(&tok))).await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        header(&resp, "www-authenticate").as_deref(),
        Some("Bearer error=\"invalid_token\"")
    );
    assert_eq!(
        body_json(resp).await,
        json!({"detail": "Unauthorized: user disabled", "request_id": "req-42"})
    );
}

#[actix_web::test]
async fn principal_check_unavailable_is_503_with_retry_after() {
    let (tok, ..) = token(Role::Admin);
    let (auth, _) = with_check(Some(PrincipalRejection::Unavailable(
        "user store unavailable".into(),
    )));
    let resp = call(auth, get("/whoami", Some(&tok))).await;
    assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(header(&resp, "retry-after").as_deref(), Some("1"));
    assert_eq!(
        body_json(resp).await,
        json!({"detail": "Service Unavailable: user store unavailable", "request_id": "req-42"})
    );
}

#[actix_web::test]
async fn principal_check_is_not_run_for_invalid_tokens_and_runs_once_per_request() {
    let (auth, calls) = with_check(None);
    let resp = call(auth.clone(), get("/whoami", Some("garbage"))).await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(calls.load(Ordering::SeqCst), 0);

    // `/email` takes both `Claims` and `TenantContext`: one verification, one check.
    let (user, tenant) = (Uuid::new_v4(), Uuid::new_v4());
    let issuer = TokenIssuer::new(hs_keys(), ISS, AUD).unwrap();
    let claims = issuer
        .claims_at(
            user,
            tenant,
            Role::Viewer,
            Duration::from_secs(300),
            tenant_auth::unix_now(),
        )
        .with_email("viewer@example.test");
    let tok = issuer.sign(&claims).unwrap();
    let resp = call(auth.clone(), get("/email", Some(&tok))).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(test::read_body(resp).await, "viewer@example.test");
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    assert_eq!(
        auth.verifier().cache_stats().misses,
        2,
        "garbage + one verification of the token"
    );
}

#[actix_web::test]
async fn principal_check_from_closure_sees_the_context() {
    let (tok, _, tenant) = token(Role::Trader);
    let auth = authenticator().with_principal_check(principal_check_fn(
        move |ctx: TenantContext| async move {
            if ctx.tenant_id == tenant {
                Err(PrincipalRejection::Forbidden("tenant suspended".into()))
            } else {
                Ok(())
            }
        },
    ));
    let resp = call(auth.clone(), get("/whoami", Some(&tok))).await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    let (other, ..) = token(Role::Trader);
    assert_eq!(
        call(auth, get("/whoami", Some(&other))).await.status(),
        StatusCode::OK
    );
}

#[actix_web::test]
async fn require_failing_is_403() {
    let (viewer, ..) = token(Role::Viewer);
    let expected = json!({"detail": "Forbidden: missing permission trade", "request_id": "req-42"});

    let post = |path: &str, tok: &str| {
        test::TestRequest::post()
            .uri(path)
            .insert_header(("x-request-id", "req-42"))
            .insert_header(("authorization", format!("Bearer {tok}")))
    };

    // `ctx.require(..)` mapped with the request id.
    let resp = call(authenticator(), post("/trade", &viewer)).await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    assert_eq!(body_json(resp).await, expected);

    // The typed extractor.
    let resp = call(authenticator(), post("/trade-typed", &viewer)).await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    assert_eq!(body_json(resp).await, expected);

    // Plain `AuthError` via `?`: same status and detail, no request id.
    let resp = call(authenticator(), post("/trade-plain", &viewer)).await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        body_json(resp).await,
        json!({"detail": "Forbidden: missing permission trade", "request_id": ""})
    );

    // A trader passes all three.
    let (trader, _, tenant) = token(Role::Trader);
    for path in ["/trade", "/trade-typed", "/trade-plain"] {
        let resp = call(authenticator(), post(path, &trader)).await;
        assert_eq!(resp.status(), StatusCode::OK, "{path}");
        if path == "/trade-typed" {
            assert_eq!(test::read_body(resp).await, format!("traded for {tenant}"));
        }
    }

    // Unauthenticated on the typed route: 401, not 403.
    let resp = call(
        authenticator(),
        test::TestRequest::post().uri("/trade-typed"),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
}

#[actix_web::test]
async fn missing_authenticator_is_500_and_bare_app_data_works() {
    let (tok, ..) = token(Role::Viewer);
    let app = test::init_service(App::new().configure(routes)).await;
    let resp = test::call_service(&app, get("/whoami", Some(&tok)).to_request()).await;
    assert_eq!(resp.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(
        body_json(resp).await,
        json!({"detail": "Internal Server Error: internal error", "request_id": "req-42"})
    );

    let app = test::init_service(App::new().app_data(authenticator()).configure(routes)).await;
    let resp = test::call_service(&app, get("/whoami", Some(&tok)).to_request()).await;
    assert_eq!(resp.status(), StatusCode::OK);
}

#[actix_web::test]
async fn authenticator_can_be_used_directly() {
    let (tok, user, _) = token(Role::Owner);
    let claims = authenticator().authenticate(&tok).await.unwrap();
    assert_eq!(claims.sub, user);
    let (auth, _) = with_check(Some(PrincipalRejection::Forbidden("no".into())));
    assert!(matches!(auth.authenticate(&tok).await, Err(AuthError::Forbidden(m)) if m == "no"));
}
