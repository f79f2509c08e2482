//! `alphapulse`: the server and its command-line tools. A thin layer: parse settings, open
//! the database, hand over to the library crates.

mod auth;
mod cli;
mod commands;
mod credentials;
mod database;
mod demo;
mod demo_market;
mod market_csv;
mod telemetry;

use anyhow::Result;
use clap::Parser;

use crate::{
    cli::{Cli, Command},
    database::Database,
};

fn main() -> Result<()> {
    let cli = Cli::parse();
    telemetry::init(&cli.global.log, cli.global.log_format)?;
    let database = Database::open(&cli.global)?;
    let result = match &cli.command {
        Command::Serve(args) => commands::serve::run(&cli.global, &database, args),
        Command::Migrate { action } => commands::migrate::run(&database, *action),
        Command::Db { action } => commands::db::run(&database, *action),
        Command::SeedDemo(args) => commands::seed_demo::run(&database, args),
        Command::Token(args) => commands::token::run(&database, args),
        Command::Tenant { action } => commands::tenant::run(&database, action),
        Command::Market { action } => commands::market::run(&database, action),
    };
    // Stop a cluster we started, even when the command failed.
    let stopped = database.shutdown();
    result.and(stopped)
}
