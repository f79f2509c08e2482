//! The command line: every setting can also come from its `ALPHAPULSE_*` environment variable.

use std::{net::SocketAddr, path::PathBuf};

use alphapulse_domain::{SubscriptionTier, TenantStatus, TextEnum};
use clap::{Args, Parser, Subcommand, ValueEnum};
use uuid::Uuid;

use crate::{auth::AuthArgs, credentials::CredentialsArgs};

/// AlphaPulse: a multi-tenant trading API.
#[derive(Debug, Parser)]
#[command(name = "alphapulse", version, about)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// Settings shared by every command (listed under their own heading in each command's help).
#[derive(Debug, Args)]
#[command(next_help_heading = "Global options")]
pub struct GlobalArgs {
    /// Owner database URL; unset = a local cluster in the data dir.
    #[arg(
        long,
        env = "ALPHAPULSE_DATABASE_URL",
        global = true,
        hide_env_values = true
    )]
    pub database_url: Option<String>,

    /// Local cluster data and generated dev secrets.
    #[arg(
        long,
        env = "ALPHAPULSE_DATA_DIR",
        default_value = ".alphapulse",
        global = true
    )]
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
    /// Load the demo data (idempotent) and print its credentials.
    SeedDemo(SeedDemoArgs),
    /// Print a signed access token for an existing user.
    Token(TokenArgs),
    /// Platform administration of tenants.
    Tenant {
        #[command(subcommand)]
        action: TenantAction,
    },
    /// Users of a tenant (e.g. the first admin of a new tenant).
    User {
        #[command(subcommand)]
        action: UserAction,
    },
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
    /// Shared daily market data (platform): import candles from CSV, list symbols.
    Market {
        #[command(subcommand)]
        action: MarketAction,
    },
    /// Local database clusters for development and tests.
    Cluster {
        #[command(subcommand)]
        action: ClusterAction,
    },
}

#[derive(Debug, Subcommand)]
pub enum ClusterAction {
    /// A local Citus cluster (coordinator + workers) in `<data dir>/citus`.
    Citus {
        #[command(subcommand)]
        action: CitusAction,
    },
}

#[derive(Debug, Subcommand)]
pub enum CitusAction {
    /// Start (or find running) the coordinator and workers, prepare the `alphapulse`
    /// database on them and print the coordinator URL; the nodes keep running until `down`.
    Up {
        /// Number of workers.
        #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u16).range(1..=16))]
        workers: u16,
    },
    /// Stop every node of the cluster.
    Down {
        /// Number of workers the cluster was started with.
        #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u16).range(1..=16))]
        workers: u16,
    },
    /// Which nodes run, on which ports, and the workers the coordinator knows.
    Status {
        /// Number of workers the cluster was started with.
        #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u16).range(1..=16))]
        workers: u16,
    },
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// API listener address.
    #[arg(long, env = "ALPHAPULSE_BIND", default_value = "127.0.0.1:8080")]
    pub bind: SocketAddr,

    /// Prometheus listener (`GET /metrics`), separate from the API; `off` for none.
    #[arg(long, env = "ALPHAPULSE_METRICS_BIND", default_value = "127.0.0.1:9464",
          value_parser = parse_metrics_bind)]
    pub metrics_bind: MetricsBind,

    /// Tenants with a metrics label of their own (the rest are counted under `other`).
    #[arg(long, env = "ALPHAPULSE_METRICS_TENANT_LABELS", default_value_t = 100)]
    pub metrics_tenant_labels: usize,

    /// Multiplies every plan's burst limit (requests per second and bucket size), e.g. for
    /// load tests; the daily quotas are per tenant, in the database.
    #[arg(long, env = "ALPHAPULSE_BURST_SCALE", default_value = "1")]
    pub burst_scale: std::num::NonZeroU32,

    /// HTTP worker threads (each with its own event loop); default: one per CPU.
    #[arg(long, env = "ALPHAPULSE_HTTP_WORKERS")]
    pub http_workers: Option<std::num::NonZeroUsize>,

    /// Most threads of each HTTP worker's blocking pool (service calls: database, argon2,
    /// exchange HTTP, CSV exports for their whole download); default: actix's (512 / workers).
    /// Capping it at the database pool's share measured no better (docs/benchmarks.md).
    #[arg(long, env = "ALPHAPULSE_BLOCKING_THREADS")]
    pub blocking_threads: Option<std::num::NonZeroUsize>,

    /// Load demo data when the database has no tenants besides the platform tenant, and
    /// print how to log in.
    #[arg(long)]
    pub demo: bool,

    /// Allow `--demo` with a configured database URL or a non-loopback address (the demo
    /// users' passwords are published: never on a reachable server).
    #[arg(long, requires = "demo")]
    pub demo_anywhere: bool,

    /// How long a user/tenant status check is cached, in seconds (0..=30; 0 = every request
    /// asks the database).
    #[arg(long, env = "ALPHAPULSE_PRINCIPAL_TTL_SECONDS", default_value_t = 30,
          value_parser = clap::value_parser!(u64).range(0..=30))]
    pub principal_ttl_seconds: u64,

    /// Proxies whose `X-Forwarded-For` is believed for per-address limits: comma-separated
    /// addresses or CIDR networks (default: none; the peer address counts).
    #[arg(long, env = "ALPHAPULSE_TRUSTED_PROXIES", value_delimiter = ',', value_name = "CIDR,...",
          value_parser = parse_network)]
    pub trusted_proxies: Vec<ipnet::IpNet>,

    /// Seconds an unfinished trading action's `Idempotency-Key` holds before a retry takes it
    /// over and reconciles the stored orders.
    #[arg(long, env = "ALPHAPULSE_IDEMPOTENCY_STALE_SECONDS", default_value_t = 300,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub idempotency_stale_seconds: u64,

    /// Login attempts allowed per account (e-mail) per minute.
    #[arg(long, env = "ALPHAPULSE_LOGIN_PER_ACCOUNT_PER_MINUTE", default_value_t = 10,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub login_per_account_per_minute: u32,

    /// Interval of the per-tenant portfolio snapshot job, in seconds (the first snapshot is
    /// taken at start-up; several servers on one database write one per interval).
    #[arg(long, env = "ALPHAPULSE_SNAPSHOT_INTERVAL_SECONDS", default_value_t = 3600,
          value_parser = clap::value_parser!(u64).range(1..=31_536_000))]
    pub snapshot_interval_seconds: u64,

    /// Enforce each tenant's daily API quota and burst limit (`false` when a gateway in front
    /// enforces them, or to measure their cost).
    #[arg(long, env = "ALPHAPULSE_QUOTAS", default_value_t = true, action = clap::ArgAction::Set,
          value_name = "BOOL")]
    pub quotas: bool,

    /// Serve the hot tenant reads (`GET /api/v1/positions/spot` of paper accounts) over
    /// async, pipelined connections on the HTTP workers (`false`: every read on the blocking
    /// pool over r2d2, as before; to compare, see docs/benchmarks.md).
    #[arg(long, env = "ALPHAPULSE_ASYNC_READS", default_value_t = true, action = clap::ArgAction::Set,
          value_name = "BOOL")]
    pub async_reads: bool,

    /// After a rotation of exchange credentials, how long the replaced key pair still signs
    /// (when the venue refuses the new one), in seconds (0..=86400).
    #[arg(long, env = "ALPHAPULSE_CREDENTIALS_GRACE_SECONDS", default_value_t = 300,
          value_parser = clap::value_parser!(u64).range(0..=86_400))]
    pub credentials_grace_seconds: u64,

    #[command(flatten)]
    pub auth: AuthArgs,

    #[command(flatten)]
    pub credentials: CredentialsArgs,

    #[command(flatten)]
    pub mining: MiningArgs,
}

/// The firm console's rule-mining job and its thresholds (also the defaults of on-demand
/// mining, `POST /api/v1/rules/mine`).
#[derive(Debug, Args)]
pub struct MiningArgs {
    /// Seconds between mining runs over every active tenant (0 = no job).
    #[arg(
        long,
        env = "ALPHAPULSE_RULES_MINING_INTERVAL_SECONDS",
        default_value_t = 3600
    )]
    pub rules_mining_interval_seconds: u64,
    /// Decisions with a realised outcome a pattern needs, at least.
    #[arg(long, env = "ALPHAPULSE_RULES_MIN_COUNT", default_value_t = 20,
          value_parser = clap::value_parser!(u32).range(1..=10000))]
    pub rules_min_count: u32,
    /// Precision (share of right directions) a pattern needs, at least (0..=1).
    #[arg(long, env = "ALPHAPULSE_RULES_MIN_PRECISION", default_value_t = 0.6)]
    pub rules_min_precision: f64,
    /// Standard deviation of a pattern's directional returns, at most (0..=1).
    #[arg(long, env = "ALPHAPULSE_RULES_MAX_STD_DEV", default_value_t = 0.05)]
    pub rules_max_std_dev: f64,
    /// Days of decision history mined.
    #[arg(long, env = "ALPHAPULSE_RULES_LOOKBACK_DAYS", default_value_t = 90,
          value_parser = clap::value_parser!(u32).range(1..=365))]
    pub rules_lookback_days: u32,
}

impl MiningArgs {
    /// The thresholds.
    ///
    /// # Errors
    /// A precision or deviation outside 0..=1.
    pub fn thresholds(&self) -> anyhow::Result<alphapulse_console::MiningThresholds> {
        let t = alphapulse_console::MiningThresholds {
            min_count: self.rules_min_count,
            min_precision: self.rules_min_precision,
            max_std_dev: self.rules_max_std_dev,
            lookback_days: self.rules_lookback_days,
        };
        match t.check().first() {
            Some(e) => Err(anyhow::anyhow!("rules mining: {e}")),
            None => Ok(t),
        }
    }
}

#[derive(Debug, Args)]
pub struct SeedDemoArgs {
    /// Print the credentials as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct TokenArgs {
    /// The user's id.
    #[arg(long, value_name = "UUID")]
    pub user: Uuid,

    /// Lifetime in seconds (default: ALPHAPULSE_JWT_TTL_SECONDS).
    #[arg(long, value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(1..=31_536_000))]
    pub ttl: Option<u64>,

    #[command(flatten)]
    pub auth: AuthArgs,
}

#[derive(Debug, Subcommand)]
pub enum TenantAction {
    /// Create a tenant.
    Create(TenantCreateArgs),
    /// List tenants.
    List {
        /// Only tenants in this state.
        #[arg(long, value_parser = parse_status)]
        status: Option<TenantStatus>,
        /// Print a JSON array.
        #[arg(long)]
        json: bool,
    },
    /// Suspend a tenant (its users get 403 once the servers' status caches expire, <= 30 s).
    Suspend {
        /// Tenant id or slug.
        #[arg(value_name = "ID|SLUG")]
        tenant: String,
    },
    /// Activate a suspended (or cancelled) tenant.
    Activate {
        /// Tenant id or slug.
        #[arg(value_name = "ID|SLUG")]
        tenant: String,
    },
}

#[derive(Debug, Args)]
pub struct TenantCreateArgs {
    /// Display name.
    #[arg(long)]
    pub name: String,
    /// Unique handle: 3-63 chars of a-z, 0-9 and inner '-'.
    #[arg(long)]
    pub slug: String,
    /// Plan: starter, pro or enterprise.
    #[arg(long, value_parser = parse_tier)]
    pub tier: SubscriptionTier,
    /// Most users (default: the database default).
    #[arg(long, value_parser = clap::value_parser!(i32).range(1..))]
    pub max_users: Option<i32>,
    /// Daily API call quota (default: the database default).
    #[arg(long, value_parser = clap::value_parser!(i32).range(1..))]
    pub max_api_calls_per_day: Option<i32>,
    /// Print the tenant as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum UserAction {
    /// Create a user (audit-logged). The password is read from stdin with
    /// `--password-stdin`, or generated and printed once.
    Create(UserCreateArgs),
}

#[derive(Debug, Args)]
pub struct UserCreateArgs {
    /// The tenant: id or slug (`platform` for owner/staff).
    #[arg(long, value_name = "ID|SLUG")]
    pub tenant: String,
    /// Login e-mail (unique across the platform).
    #[arg(long)]
    pub email: String,
    /// admin, trader or viewer (owner or staff in the platform tenant).
    #[arg(long)]
    pub role: String,
    /// Read the password from the first line of stdin instead of generating one.
    #[arg(long)]
    pub password_stdin: bool,
    /// Print the user (and a generated password) as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Where the metrics listener binds, if anywhere.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MetricsBind(pub Option<SocketAddr>);

fn parse_metrics_bind(s: &str) -> Result<MetricsBind, String> {
    match s.trim() {
        "off" | "none" | "" => Ok(MetricsBind(None)),
        addr => addr
            .parse()
            .map(|a| MetricsBind(Some(a)))
            .map_err(|_| format!("{addr:?} is not an address:port (or `off`)")),
    }
}

/// An address (`10.0.0.1`, one host) or a network (`10.0.0.0/8`).
fn parse_network(s: &str) -> Result<ipnet::IpNet, String> {
    let s = s.trim();
    s.parse::<ipnet::IpNet>()
        .or_else(|_| s.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
        .map_err(|_| format!("{s:?} is neither an IP address nor a CIDR network"))
}

fn parse_tier(s: &str) -> Result<SubscriptionTier, String> {
    SubscriptionTier::parse_field(s).map_err(|e| e.message)
}

fn parse_status(s: &str) -> Result<TenantStatus, String> {
    TenantStatus::parse_field(s).map_err(|e| e.message)
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

#[derive(Debug, Subcommand)]
pub enum MarketAction {
    /// Import daily OHLCV candles from a CSV file (all rows or none).
    ///
    /// The header is `symbol,open_time,open,high,low,close,volume`; `open_time` is YYYY-MM-DD
    /// or RFC 3339 at 00:00 UTC. The whole file is checked first: any problem (reported with
    /// its line number) imports nothing. Existing candles of the same symbol and day are
    /// replaced, so a re-import writes the same rows again.
    Import {
        /// The CSV file.
        #[arg(long, value_name = "FILE")]
        csv: PathBuf,
    },
    /// List the symbols with data: first and last day, number of candles.
    Symbols {
        /// Print a JSON array.
        #[arg(long)]
        json: bool,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trusted_proxies_are_addresses_or_networks() {
        assert_eq!(
            parse_network(" 10.0.0.1 ").unwrap(),
            "10.0.0.1/32".parse::<ipnet::IpNet>().unwrap()
        );
        assert_eq!(
            parse_network("fd00::/8").unwrap(),
            "fd00::/8".parse::<ipnet::IpNet>().unwrap()
        );
        assert!(parse_network("proxy.local")
            .unwrap_err()
            .contains("proxy.local"));
    }
}
