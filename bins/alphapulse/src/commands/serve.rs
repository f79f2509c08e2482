use anyhow::{Context, Result};
use actix_web::{web, App, HttpServer};
use alphapulse_api::AppState;
use alphapulse_persistence::migrations;

use crate::{
    cli::{GlobalArgs, ServeArgs},
    database::Database,
};

/// Migrates, then serves until SIGINT/SIGTERM (actix drains in-flight requests first).
pub fn run(global: &GlobalArgs, database: &Database, args: &ServeArgs) -> Result<()> {
    let db = database.pool(global)?;
    {
        let mut conn = db.owner_connection().context("connecting to the database")?;
        for version in migrations::run_pending(&mut conn)? {
            tracing::info!(%version, "applied migration");
        }
    }
    let state = web::Data::new(AppState { db });
    actix_web::rt::System::new().block_on(async move {
        let server = HttpServer::new(move || {
            App::new()
                .app_data(state.clone())
                .configure(alphapulse_api::configure)
        })
        .bind(args.bind)
        .with_context(|| format!("binding {}", args.bind))?
        .shutdown_timeout(10);
        let addrs = server.addrs();
        tracing::info!(?addrs, "AlphaPulse listening");
        server.run().await.context("running the HTTP server")
    })?;
    tracing::info!("server stopped");
    Ok(())
}
