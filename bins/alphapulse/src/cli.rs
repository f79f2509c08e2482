//! The command line: every setting can also come from its `ALPHAPULSE_*` environment variable.

use std::{net::SocketAddr, path::PathBuf};

use clap::{Args, Parser, Subcommand, ValueEnum};

/// AlphaPulse: a multi-tenant trading API.
#[derive(Debug, Parser)]
#[command(name = "alphapulse", version, about)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// Settings shared by every command.
#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Owner database URL; unset = a local cluster in the data dir.
    #[arg(long, env = "ALPHAPULSE_DATABASE_URL", global = true, hide_env_values = true)]
    pub database_url: Option<String>,

    /// Local cluster data and generated dev secrets.
    #[arg(long, env = "ALPHAPULSE_DATA_DIR", default_value = ".alphapulse", global = true)]
    pub data_dir: PathBuf,

    /// Directory of the PostgreSQL server binaries (default: searched).
    #[arg(long, env = "ALPHAPULSE_PG_BIN_DIR", global = true)]
    pub pg_bin_dir: Option<PathBuf>,

    /// r2d2 pool size (default: 2 x cores + 4).
    #[arg(long, env = "ALPHAPULSE_DB_POOL_SIZE", global = true)]
    pub db_pool_size: Option<u32>,

    /// tracing filter, e.g. `info` or `alphapulse=debug,info`.
    #[arg(long, env = "ALPHAPULSE_LOG", default_value = "info", global = true)]
    pub log: String,

    /// Log format.
    #[arg(long, env = "ALPHAPULSE_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text, global = true)]
    pub log_format: LogFormat,
}

/// How logs are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Migrate, then serve the API until Ctrl-C / SIGTERM.
    Serve(ServeArgs),
    /// Database migrations.
    Migrate {
        #[command(subcommand)]
        action: Option<MigrateAction>,
    },
    /// Database helpers.
    Db {
        #[command(subcommand)]
        action: DbAction,
    },
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// API listener address.
    #[arg(long, env = "ALPHAPULSE_BIND", default_value = "127.0.0.1:8080")]
    pub bind: SocketAddr,
}

#[derive(Debug, Clone, Copy, Subcommand, PartialEq, Eq)]
pub enum MigrateAction {
    /// Apply every pending migration (the default).
    Up,
    /// Revert the most recent migration.
    Down,
    /// List migrations and whether each is applied.
    Status,
    /// Revert the most recent migration and apply it again.
    Redo,
}

#[derive(Debug, Clone, Copy, Subcommand)]
pub enum DbAction {
    /// Print the owner database URL in use (embedded or configured).
    Url,
}
