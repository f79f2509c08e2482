//! `alphapulse`: the server and its command-line tools, as a library so the integration tests
//! build the same application the binary serves. A thin layer: parse settings, open the
//! database, compose the services ([`compose`]), hand over to the library crates.

pub mod auth;
pub mod cli;
pub mod commands;
pub mod compose;
pub mod credentials;
pub mod database;
pub mod demo;
pub mod demo_console;
pub mod demo_market;
pub mod jobs;
pub mod market_csv;
pub mod metrics;
pub mod telemetry;

use anyhow::Result;
use clap::Parser;

use crate::{
    cli::{Cli, Command},
    database::Database,
};

/// Runs the command line.
///
/// # Errors
/// The command's failure, with its context chain.
pub fn run() -> Result<()> {
    let cli = Cli::parse();
    telemetry::init(&cli.global.log, cli.global.log_format)?;
    if let Command::Serve(args) = &cli.command {
        commands::serve::check_demo(&cli.global, args)?;
    }
    // The Citus cluster commands manage clusters of their own, not the application database.
    if let Command::Cluster { action } = &cli.command {
        return commands::cluster::run(&cli.global, action);
    }
    let database = Database::open(&cli.global)?;
    let result = match &cli.command {
        Command::Serve(args) => commands::serve::run(&cli.global, &database, args),
        Command::Migrate { action } => commands::migrate::run(&database, *action),
        Command::Db { action } => commands::db::run(&database, *action),
        Command::SeedDemo(args) => commands::seed_demo::run(&database, args),
        Command::Token(args) => commands::token::run(&database, args),
        Command::Tenant { action } => commands::tenant::run(&database, action),
        Command::User { action } => commands::user::run(&database, action),
        Command::Market { action } => commands::market::run(&database, action),
        Command::Cluster { .. } => unreachable!("handled before opening the database"),
    };
    // Stop a cluster we started, even when the command failed.
    let stopped = database.shutdown();
    result.and(stopped)
}
