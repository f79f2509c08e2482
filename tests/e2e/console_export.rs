//! `test_streams_large_export` (seed 004): the real binary streams a 100 000-row audit export
//! while its resident memory (from `/proc/<pid>/status`) grows by less than 100 MB.
//!
//! `ALPHAPULSE_EXPORT_ROWS` (default 100 000) and `ALPHAPULSE_EXPORT_BIN` (default: this
//! build's binary) turn it into the benchmark of `docs/benchmarks.md` (1M rows, release).

use std::{
    io::Read,
    time::{Duration, Instant},
};

use alphapulse_domain::ports::{TenantRepo, UserRepo};
use alphapulse_domain::{ports::Actor, Email, NewTenant, NewUser, Role, Slug, SubscriptionTier};
use alphapulse_persistence::{testing::TestDb, Error, PgTenantRepo, PgUserRepo};
use diesel::{sql_query, sql_types::Uuid as SqlUuid, RunQueryDsl};
use serde_json::json;

use crate::e2e::support::{temp_dir, Server};

/// The token secret of the servers these tests start over a test database.
pub const JWT_SECRET: &str = "console-e2e-secret-0123456789-abcdefgh";

/// Resident and peak resident memory of a process, in KiB.
pub fn rss_kib(pid: u32) -> (u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

fn note() -> alphapulse_domain::AuditNote {
    alphapulse_domain::AuditNote {
        user_id: None,
        action: "fixture".into(),
        request_id: None,
        details: json!({}),
    }
}

#[test]
fn test_streams_large_export() {
    let rows: u64 = std::env::var("ALPHAPULSE_EXPORT_ROWS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let mut test_db = TestDb::new();
    let db = test_db.db();
    let tenant = PgTenantRepo::new(db.clone())
        .create(
            NewTenant {
                name: "Pilot Export".into(),
                slug: Slug::parse("pilot-export").unwrap(),
                subscription_tier: SubscriptionTier::Enterprise,
                max_users: Some(5),
                max_api_calls_per_day: None,
                metadata: None,
            },
            &note(),
        )
        .unwrap()
        .id;
    let password = "export-admin-password";
    PgUserRepo::new(db.clone())
        .create(
            &Actor::system(tenant),
            NewUser {
                tenant_id: tenant,
                email: Email::parse("admin@pilot-export.example").unwrap(),
                password_hash: alphapulse_admin::password::hash_password(password).unwrap(),
                role: Role::Admin,
            },
            5,
            &note(),
        )
        .unwrap();
    let started = Instant::now();
    // In chunks, each within the pool's statement timeout.
    let mut done = 0u64;
    while done < rows {
        let n = (rows - done).min(100_000);
        db.platform()
            .run(|c| {
                sql_query(
                    "INSERT INTO decision_audit_log (timestamp, tenant_id, txn_id, vendor_normalized, action, \
                     not_auto_post_reason, calibrated_p, threshold_used, user_id) \
                     SELECT now() - make_interval(secs => g::double precision / 10), $1, gen_random_uuid(), \
                     (ARRAY['paper:BTCUSDT','paper:ETHUSDT','paper:SOLUSDT'])[1 + g % 3], \
                     (ARRAY['queued','auto_executed','rejected'])[1 + g % 3], \
                     CASE g % 3 WHEN 0 THEN 'below_threshold' WHEN 2 THEN 'risk_limit' END, \
                     0.5 + (g % 490) / 1000.0, 0.9, NULL FROM generate_series($2::bigint, $3::bigint) g",
                )
                .bind::<SqlUuid, _>(tenant.as_uuid())
                .bind::<diesel::sql_types::BigInt, _>((done + 1) as i64)
                .bind::<diesel::sql_types::BigInt, _>((done + n) as i64)
                .execute(c)
                .map_err(Error::from)
            })
            .unwrap();
        done += n;
    }
    db.platform()
        .run(|c| {
            sql_query("ANALYZE decision_audit_log")
                .execute(c)
                .map_err(Error::from)
        })
        .unwrap();
    eprintln!("inserted {rows} trail rows in {:?}", started.elapsed());

    let dir = temp_dir(0o755);
    let mut extra = vec!["--database-url", test_db.url()];
    let bin = std::env::var("ALPHAPULSE_EXPORT_BIN").ok();
    let server = Server::start_bin(
        bin.as_deref().unwrap_or(crate::e2e::support::BIN),
        &dir.path().join("data"),
        &extra,
        &[("ALPHAPULSE_JWT_SECRET", JWT_SECRET)],
    );
    extra.clear();
    let pid = server.child.as_ref().unwrap().id();
    let client = reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(600))
        .build()
        .unwrap();
    let token: serde_json::Value = client
        .post(format!("{}/api/v1/auth/token", server.base))
        .json(&json!({"email": "admin@pilot-export.example", "password": password}))
        .send()
        .unwrap()
        .json()
        .unwrap();
    let token = token["access_token"].as_str().unwrap().to_owned();
    // Warm up (pool, caches), then measure.
    let warm = client
        .get(format!("{}/api/v1/audit?limit=10", server.base))
        .bearer_auth(&token)
        .send()
        .unwrap();
    assert_eq!(warm.status(), 200);
    let (baseline, _) = rss_kib(pid);
    // Reset the peak (VmHWM) to the current RSS, so it measures the export only.
    let reset = std::fs::write(format!("/proc/{pid}/clear_refs"), "5").is_ok();
    // The client is curl (writing to a file), so this test's own (unoptimised) code is not
    // what limits the rate; RSS is sampled while it runs.
    let out = dir.path().join("export.csv");
    let headers = dir.path().join("headers.txt");
    let started = Instant::now();
    let mut curl = std::process::Command::new("curl")
        .args(["-sS", "--fail", "-o"])
        .arg(&out)
        .arg("-D")
        .arg(&headers)
        .arg("-H")
        .arg(format!("Authorization: Bearer {token}"))
        .arg(format!("{}/api/v1/audit/export.csv", server.base))
        .spawn()
        .expect("curl runs");
    let mut peak = baseline;
    let status = loop {
        peak = peak.max(rss_kib(pid).0);
        if let Some(status) = curl.try_wait().unwrap() {
            break status;
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let elapsed = started.elapsed();
    assert!(status.success(), "curl: {status}");
    let (_, hwm) = rss_kib(pid);
    let head = std::fs::read_to_string(&headers).unwrap();
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(
        head.to_lowercase()
            .contains("content-disposition: attachment; filename=audit_export_"),
        "{head}"
    );
    let mut file = std::fs::File::open(&out).unwrap();
    let mut buf = vec![0u8; 1 << 20];
    let (mut lines, mut bytes) = (0u64, 0u64);
    let mut first = Vec::new();
    loop {
        let n = file.read(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        if first.is_empty() {
            first.extend_from_slice(&buf[..n.min(200)]);
        }
        lines += buf[..n].iter().filter(|b| **b == b'\n').count() as u64;
        bytes += n as u64;
    }
    if reset {
        peak = peak.max(hwm);
    }
    let growth_mb = (peak.saturating_sub(baseline)) as f64 / 1024.0;
    eprintln!(
        "export: {rows} rows, {:.1} MB in {:.2} s = {:.0} rows/s; server RSS {:.1} MB before, peak {:.1} MB (VmHWM {:.1} MB), growth {growth_mb:.1} MB",
        bytes as f64 / 1e6,
        elapsed.as_secs_f64(),
        rows as f64 / elapsed.as_secs_f64(),
        baseline as f64 / 1024.0,
        peak as f64 / 1024.0,
        hwm as f64 / 1024.0,
    );
    assert!(
        first.starts_with(b"timestamp,tenant_id,txn_id,vendor_normalized,action,"),
        "the CSV starts with its header: {}",
        String::from_utf8_lossy(&first)
    );
    assert_eq!(lines, rows + 1, "one line per trail row, plus the header");
    assert!(
        growth_mb < 100.0,
        "the server grew by {growth_mb:.1} MB while exporting"
    );
}
