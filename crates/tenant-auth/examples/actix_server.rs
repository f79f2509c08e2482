//! A small actix-web server protected by `tenant-auth`.
//!
//! ```sh
//! cargo run -p tenant-auth --features actix --example actix_server
//! # then, with a token printed at start-up:
//! curl -i localhost:8080/me -H "Authorization: Bearer $TOKEN"
//! ```
//!
//! Set `PORT` to change the port (default 8080).

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use tenant_auth::actix::{
    perm, principal_check_fn, Authenticator, Authorized, HttpAuthError, PrincipalRejection,
};
use tenant_auth::{
    KeySet, Permission, Role, TenantContext, TokenIssuer, TokenVerifier, VerifierConfig,
};
use uuid::Uuid;

const ISSUER: &str = "https://auth.alphapulse.example";
const AUDIENCE: &str = "alphapulse-api";

/// Any authenticated caller.
async fn me(ctx: TenantContext) -> HttpResponse {
    HttpResponse::Ok().json(ctx)
}

/// Needs `Permission::Trade` (checked by the extractor).
async fn place_order(ctx: Authorized<perm::Trade>) -> HttpResponse {
    HttpResponse::Created()
        .json(serde_json::json!({ "tenant_id": ctx.tenant_id, "status": "accepted" }))
}

/// Needs `Permission::ManageUsers` (checked in the handler).
async fn list_users(req: HttpRequest, ctx: TenantContext) -> Result<HttpResponse, HttpAuthError> {
    ctx.require(Permission::ManageUsers)
        .map_err(|e| HttpAuthError::from_request(e, &req))?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "tenant_id": ctx.tenant_id, "users": [] })))
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let to_io = |e: tenant_auth::AuthError| std::io::Error::other(e.to_string());
    // In production: KeySet::from_file(path) with a long random secret or PEM keys.
    let keys = KeySet::hs256("demo-1", "demo-secret-demo-secret-demo-secret!").map_err(to_io)?;
    let issuer = TokenIssuer::new(keys.clone(), ISSUER, AUDIENCE).map_err(to_io)?;
    let verifier = TokenVerifier::new(keys, VerifierConfig::new(ISSUER, AUDIENCE));

    // The app's principal check: here, a set of suspended tenants.
    let suspended_tenant = Uuid::new_v4();
    let suspended: Arc<HashSet<Uuid>> = Arc::new([suspended_tenant].into_iter().collect());
    let auth = Authenticator::new(verifier).with_principal_check(principal_check_fn(
        move |ctx: TenantContext| {
            let suspended = Arc::clone(&suspended);
            async move {
                if suspended.contains(&ctx.tenant_id) {
                    Err(PrincipalRejection::Forbidden("tenant suspended".into()))
                } else {
                    Ok(())
                }
            }
        },
    ));

    let tenant = Uuid::new_v4();
    let ttl = Duration::from_secs(3600);
    for (label, tenant, role) in [
        ("viewer", tenant, Role::Viewer),
        ("trader", tenant, Role::Trader),
        ("admin", tenant, Role::Admin),
        ("suspended-tenant trader", suspended_tenant, Role::Trader),
    ] {
        let token = issuer
            .issue(Uuid::new_v4(), tenant, role, ttl)
            .map_err(to_io)?;
        println!("{label} token:\n{token}\n");
    }

    let port: u16 = std::env::var("PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(8080);
    println!("listening on http://127.0.0.1:{port} (GET /me, POST /orders, GET /users)");
    let auth = web::Data::new(auth);
    HttpServer::new(move || {
        App::new()
            .app_data(auth.clone())
            .route("/me", web::get().to(me))
            .route("/orders", web::post().to(place_order))
            .route("/users", web::get().to(list_users))
    })
    .workers(1)
    .bind(("127.0.0.1", port))?
    .run()
    .await
}
