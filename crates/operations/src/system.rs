//! Host, process, database and pool health (platform roles), and the tenant's exchange
//! re-sync.
//!
//! Host figures come from the `sysinfo` crate. CPU usage is the usage since the previous
//! report (the service keeps one `sysinfo::System`, refreshed at each report and once when
//! built, so the first report covers the time since start-up).

use std::{
    sync::{Arc, Mutex, PoisonError},
    time::Instant,
};

use alphapulse_domain::{
    ports::{
        AdapterKind, DatabaseHealth, DatabaseStats, ExchangeAccountRepo, ExchangeAdmin, PoolStats,
    },
    ExchangeClient, Principal,
};
use chrono::{DateTime, Utc};
use serde::Serialize;
use sysinfo::{Disks, ProcessRefreshKind, ProcessesToUpdate, System};
use uuid::Uuid;

use crate::{alerts::describe, OpsResult};

const MB: f64 = 1024.0 * 1024.0;
const GB: f64 = MB * 1024.0;

/// CPU of the host.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CpuReport {
    /// Usage of all cores since the previous report, percent.
    pub usage_percent: f64,
    /// Logical cores.
    pub cores: usize,
    /// 1, 5 and 15 minute load averages.
    pub load_average: [f64; 3],
}

/// Memory of the host.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MemoryReport {
    /// Total, MiB.
    pub total_mb: f64,
    /// Used, MiB.
    pub used_mb: f64,
    /// Used, percent (`null` when the total is unknown).
    pub percent: Option<f64>,
}

/// The disk holding `/` (or the first disk found).
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DiskReport {
    /// Mount point.
    pub mount_point: String,
    /// Total, GiB.
    pub total_gb: f64,
    /// Used, GiB.
    pub used_gb: f64,
    /// Used, percent (`null` when the total is unknown).
    pub percent: Option<f64>,
}

/// This server process.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProcessReport {
    /// Process id.
    pub pid: u32,
    /// Resident memory, MiB.
    pub memory_mb: f64,
    /// Threads (tasks), where the platform reports them.
    pub threads: Option<usize>,
    /// Seconds since the process started.
    pub uptime_seconds: u64,
}

/// The whole report.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SystemReport {
    /// `ok`, or `degraded` when the database does not answer.
    pub status: String,
    /// CPU.
    pub cpu: CpuReport,
    /// Memory.
    pub memory: MemoryReport,
    /// Disk (`null` when no disk is visible).
    pub disk: Option<DiskReport>,
    /// This process.
    pub process: ProcessReport,
    /// The database.
    pub database: DatabaseHealth,
    /// The connection pool.
    pub pool: PoolStats,
    /// When the report was made.
    pub timestamp: DateTime<Utc>,
}

/// The re-sync of one exchange account.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AccountSync {
    /// The account (`null` for a tenant without one, served by the paper exchange).
    pub account_id: Option<Uuid>,
    /// Its venue.
    pub exchange: AdapterKind,
    /// Whether balances and positions were read.
    pub success: bool,
    /// Balances and positions read.
    pub items_processed: usize,
    /// How long it took.
    pub duration_seconds: f64,
    /// What failed (no venue text, no secret).
    pub errors: Vec<String>,
}

/// Host and process health, and the exchange re-sync.
pub struct SystemService {
    host: Mutex<System>,
    database: Arc<dyn DatabaseStats>,
    exchange: Arc<dyn ExchangeClient>,
    accounts: Arc<dyn ExchangeAccountRepo>,
    admin: Arc<dyn ExchangeAdmin>,
}

impl std::fmt::Debug for SystemService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SystemService").finish_non_exhaustive()
    }
}

fn percent(part: f64, total: f64) -> Option<f64> {
    (total > 0.0).then(|| (part / total * 100.0).clamp(0.0, 100.0))
}

#[allow(clippy::cast_precision_loss)] // byte counts shown in MiB/GiB
fn scaled(bytes: u64, unit: f64) -> f64 {
    bytes as f64 / unit
}

impl SystemService {
    /// The service; `exchange` is the client the other services use (so a failing account
    /// raises its alert here too), `admin` forgets the tenant's cached exchange state.
    pub fn new(
        database: Arc<dyn DatabaseStats>,
        exchange: Arc<dyn ExchangeClient>,
        accounts: Arc<dyn ExchangeAccountRepo>,
        admin: Arc<dyn ExchangeAdmin>,
    ) -> Self {
        let mut host = System::new();
        host.refresh_cpu_usage();
        Self {
            host: Mutex::new(host),
            database,
            exchange,
            accounts,
            admin,
        }
    }

    /// The host, process, database and pool report.
    pub fn report(&self) -> SystemReport {
        let (cpu, memory, process) = {
            let mut host = self.host.lock().unwrap_or_else(PoisonError::into_inner);
            host.refresh_cpu_usage();
            host.refresh_memory();
            let pid = sysinfo::get_current_pid().ok();
            if let Some(pid) = pid {
                host.refresh_processes_specifics(
                    ProcessesToUpdate::Some(&[pid]),
                    true,
                    ProcessRefreshKind::nothing().with_memory(),
                );
            }
            let load = System::load_average();
            let cpu = CpuReport {
                usage_percent: f64::from(host.global_cpu_usage()).clamp(0.0, 100.0),
                cores: host.cpus().len(),
                load_average: [load.one, load.five, load.fifteen].map(|l| {
                    if l.is_finite() {
                        l
                    } else {
                        0.0
                    }
                }),
            };
            let (total, used) = (host.total_memory(), host.used_memory());
            let memory = MemoryReport {
                total_mb: scaled(total, MB),
                used_mb: scaled(used, MB),
                percent: percent(scaled(used, MB), scaled(total, MB)),
            };
            let me = pid.and_then(|pid| host.process(pid));
            let process = ProcessReport {
                pid: pid.map_or(std::process::id(), |p| p.as_u32()),
                memory_mb: me.map_or(0.0, |p| scaled(p.memory(), MB)),
                threads: me.and_then(|p| p.tasks().map(std::collections::HashSet::len)),
                uptime_seconds: me.map_or(0, sysinfo::Process::run_time),
            };
            (cpu, memory, process)
        };
        let disks = Disks::new_with_refreshed_list();
        let disk = disks
            .list()
            .iter()
            .find(|d| d.mount_point() == std::path::Path::new("/"))
            .or_else(|| disks.list().first())
            .map(|d| {
                let (total, available) = (d.total_space(), d.available_space());
                let used = total.saturating_sub(available);
                DiskReport {
                    mount_point: d.mount_point().display().to_string(),
                    total_gb: scaled(total, GB),
                    used_gb: scaled(used, GB),
                    percent: percent(scaled(used, GB), scaled(total, GB)),
                }
            });
        let database = self.database.health();
        SystemReport {
            status: if database.reachable { "ok" } else { "degraded" }.to_owned(),
            cpu,
            memory,
            disk,
            process,
            database,
            pool: self.database.pool_stats(),
            timestamp: Utc::now(),
        }
    }

    /// Re-syncs the caller's tenant's exchange account: forgets what is cached for it, then
    /// reads its balances and positions again.
    ///
    /// # Errors
    /// Storage failures reading the account (a failing venue is reported in the answer).
    pub fn exchange_reload(&self, caller: &Principal) -> OpsResult<Vec<AccountSync>> {
        let actor = caller.actor();
        let account = self.accounts.active(&actor)?;
        self.admin.forget_tenant(actor.tenant_id);
        let started = Instant::now();
        let mut errors = Vec::new();
        let mut items = 0;
        match self.exchange.spot_balances(&actor) {
            Ok(balances) => items += balances.len(),
            Err(e) => errors.push(format!("spot balances: {}", describe(&e).1)),
        }
        match self.exchange.futures_positions(&actor) {
            Ok(positions) => items += positions.len(),
            Err(e) => errors.push(format!("futures positions: {}", describe(&e).1)),
        }
        tracing::info!(tenant_id = %actor.tenant_id, items, failed = errors.len(), "exchange account re-synced");
        Ok(vec![AccountSync {
            account_id: account.as_ref().map(|a| a.id),
            exchange: account.map_or(AdapterKind::Paper, |a| a.adapter),
            success: errors.is_empty(),
            items_processed: items,
            duration_seconds: started.elapsed().as_secs_f64(),
            errors,
        }])
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use alphapulse_domain::{
        exchange::MockExchangeClient,
        ports::{MockDatabaseStats, MockExchangeAccountRepo, MockExchangeAdmin},
        ExchangeError, Role, TenantId, UserId,
    };

    use super::*;

    #[test]
    fn the_report_has_host_figures_and_says_when_the_database_is_down() {
        let mut db = MockDatabaseStats::new();
        db.expect_health().returning(|| DatabaseHealth {
            reachable: false,
            latency_ms: None,
            server_version: None,
            size_bytes: None,
            error: Some("database unavailable".into()),
        });
        db.expect_pool_stats().returning(PoolStats::default);
        let service = SystemService::new(
            Arc::new(db),
            Arc::new(MockExchangeClient::new()),
            Arc::new(MockExchangeAccountRepo::new()),
            Arc::new(MockExchangeAdmin::new()),
        );
        let report = service.report();
        assert_eq!(report.status, "degraded");
        assert!(report.cpu.cores >= 1);
        assert!(report.memory.total_mb > 0.0);
        assert_eq!(report.process.pid, std::process::id());
        assert!((0.0..=100.0).contains(&report.cpu.usage_percent));
    }

    #[test]
    fn reload_forgets_the_tenant_then_reads_and_reports_failures_safely() {
        let caller = Principal {
            tenant_id: TenantId::new_random(),
            user_id: UserId::new_random(),
            role: Role::Trader,
            request_id: None,
            client_request_id: None,
        };
        let tenant = caller.tenant_id;
        let mut accounts = MockExchangeAccountRepo::new();
        accounts.expect_active().returning(|_| Ok(None));
        let mut admin = MockExchangeAdmin::new();
        admin
            .expect_forget_tenant()
            .withf(move |t| *t == tenant)
            .times(1)
            .return_const(());
        let mut exchange = MockExchangeClient::new();
        exchange
            .expect_spot_balances()
            .returning(|_| Ok(Vec::new()));
        exchange
            .expect_futures_positions()
            .returning(|_| Err(ExchangeError::Unavailable("host 10.0.0.1 said no".into())));
        let service = SystemService::new(
            Arc::new(MockDatabaseStats::new()),
            Arc::new(exchange),
            Arc::new(accounts),
            Arc::new(admin),
        );
        let report = service.exchange_reload(&caller).unwrap();
        assert_eq!(report.len(), 1);
        assert!(!report[0].success);
        assert_eq!(report[0].exchange, AdapterKind::Paper);
        assert_eq!(report[0].errors.len(), 1);
        assert!(!report[0].errors[0].contains("10.0.0.1"));
    }
}
