//! A small actix-web server protected by `tenant-auth`.
//!
//! ```sh
//! cargo run -p tenant-auth --features actix --example actix_server
//! # then, with a token printed at start-up:
//! curl -i localhost:8080/me -H "Authorization: Bearer $TOKEN"
//! ```
//!
//! Set `PORT` to change the port (default 8080; `PORT=0` picks a free one).

use std::collections::HashSet;
use std::process::ExitCode;
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
async fn main() -> ExitCode {
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("actix_server: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> std::io::Result<()> {
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

    let port = port_from_env()?;
    let auth = web::Data::new(auth);
    // Bind before announcing the address, so a taken port is reported as such.
    let server = HttpServer::new(move || {
        App::new()
            .app_data(auth.clone())
            .route("/me", web::get().to(me))
            .route("/orders", web::post().to(place_order))
            .route("/users", web::get().to(list_users))
    })
    .workers(1)
    .bind(("127.0.0.1", port))
    .map_err(|e| {
        std::io::Error::new(
            e.kind(),
            format!("cannot listen on 127.0.0.1:{port}: {e} (set PORT to use another port)"),
        )
    })?;
    for addr in server.addrs() {
        println!("listening on http://{addr} (GET /me, POST /orders, GET /users)");
    }
    server.run().await
}

/// The port from `PORT`, 8080 when unset.
fn port_from_env() -> std::io::Result<u16> {
    match std::env::var("PORT") {
        Err(std::env::VarError::NotPresent) => Ok(8080),
        Ok(text) => text.trim().parse().map_err(|_| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!("PORT must be a port number (0-65535), got `{text}`"),
            )
        }),
        Err(std::env::VarError::NotUnicode(_)) => Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "PORT is not valid Unicode",
        )),
    }
}
