//! Demo data, logins and platform administration through the real binary: `serve --demo` on
//! a fresh data dir, then `seed-demo --json`, `token` and `tenant ...` from second processes
//! sharing the running cluster, checked over HTTP.

use std::{
    collections::BTreeSet,
    os::unix::fs::PermissionsExt,
    path::Path,
    time::{Duration, Instant},
};

use diesel::{sql_types::Text, QueryableByName, RunQueryDsl};
use reqwest::{blocking::Client, StatusCode};
use serde_json::{json, Value};

use crate::e2e::support::{command, stdout, temp_dir, DataDirDb, Server, PRINCIPAL_TTL_SECONDS};

const SLUGS: [&str; 3] = ["acme-capital", "beta-quant", "gamma-macro"];

pub(crate) fn seed_demo_json(data_dir: &Path) -> Value {
    let out = stdout(data_dir, &["seed-demo", "--json"]);
    serde_json::from_str(&out)
        .unwrap_or_else(|e| panic!("seed-demo --json is not JSON ({e}): {out}"))
}

pub(crate) fn tenant<'a>(demo: &'a Value, slug: &str) -> &'a Value {
    demo["tenants"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["slug"] == slug)
        .unwrap_or_else(|| panic!("no tenant {slug} in {demo}"))
}

pub(crate) fn user<'a>(tenant: &'a Value, role: &str) -> &'a Value {
    tenant["users"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["role"] == role)
        .unwrap_or_else(|| panic!("no {role} in {tenant}"))
}

fn emails(tenant: &Value) -> BTreeSet<String> {
    tenant["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["email"].as_str().unwrap().to_owned())
        .collect()
}

/// `POST /api/v1/auth/token` with the user's demo credentials; returns the access token.
pub(crate) fn login(client: &Client, base: &str, user: &Value) -> String {
    let resp = client
        .post(format!("{base}/api/v1/auth/token"))
        .json(&json!({ "email": user["email"], "password": user["password"] }))
        .send()
        .unwrap();
    let status = resp.status();
    let body: Value = resp.json().unwrap_or(Value::Null);
    assert_eq!(
        status,
        StatusCode::OK,
        "login of {} failed: {body}",
        user["email"]
    );
    assert_eq!(body["token_type"], "bearer", "{body}");
    body["access_token"].as_str().unwrap().to_owned()
}

fn get_users(client: &Client, base: &str, token: Option<&str>) -> reqwest::blocking::Response {
    let mut req = client.get(format!("{base}/api/v1/users"));
    if let Some(token) = token {
        req = req.bearer_auth(token);
    }
    req.send().unwrap()
}

/// The e-mails `GET /api/v1/users` answers for this token (asserting 200).
fn visible_emails(client: &Client, base: &str, token: &str) -> BTreeSet<String> {
    let resp = get_users(client, base, Some(token));
    let status = resp.status();
    let body: Value = resp.json().unwrap_or(Value::Null);
    assert_eq!(status, StatusCode::OK, "GET /api/v1/users: {body}");
    assert!(body["next_cursor"].is_null(), "{body}");
    body["items"]
        .as_array()
        .unwrap_or_else(|| panic!("no items: {body}"))
        .iter()
        .map(|u| {
            assert!(u.get("tenant_id").is_none(), "tenant_id leaked: {u}");
            assert!(u.get("password_hash").is_none(), "hash leaked: {u}");
            u["email"].as_str().unwrap().to_owned()
        })
        .collect()
}

#[test]
fn demo_data_logins_tokens_and_tenant_suspension() {
    let parent = temp_dir(0o755);
    let data_dir = parent.path().join("data");
    let server = Server::start(&data_dir, &["--demo"]);
    let base = server.base.clone();
    let client = Client::new();

    // `serve --demo` loaded the demo data before it became ready and logged how to log in.
    let log = server.log_text();
    assert!(log.contains("loaded demo data"), "{log}");
    assert!(
        log.contains("/api/v1/auth/token") && log.contains("admin@acme-capital.demo"),
        "{log}"
    );

    // The generated JWT secret: private, in the data dir, never logged. (`command` removes
    // any key the environment running the tests configures, so this always runs.)
    let secret_path = data_dir.join("jwt-secret");
    let mode = std::fs::metadata(&secret_path)
        .unwrap_or_else(|e| panic!("no generated {}: {e}", secret_path.display()))
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(mode, 0o600, "jwt-secret mode {mode:o}");
    let secret = std::fs::read_to_string(&secret_path).unwrap();
    assert!(secret.trim().len() >= 32);
    assert!(!log.contains(secret.trim()), "the JWT secret was logged");

    // seed-demo from a second process: the same credentials twice (idempotent).
    let first = seed_demo_json(&data_dir);
    let second = seed_demo_json(&data_dir);
    assert_eq!(first, second, "a second seed-demo changed the credentials");
    let owner = &second["platform"]["owner"];
    assert_eq!(owner["email"], "owner@alphapulse.local");
    assert_eq!(owner["role"], "owner");
    assert!(owner["user_id"]
        .as_str()
        .unwrap()
        .parse::<uuid::Uuid>()
        .is_ok());
    let tenants = second["tenants"].as_array().unwrap();
    assert_eq!(tenants.len(), 3, "{second}");
    for slug in SLUGS {
        let t = tenant(&second, slug);
        assert!(t["id"].as_str().unwrap().parse::<uuid::Uuid>().is_ok());
        for role in ["admin", "trader", "viewer"] {
            let u = user(t, role);
            assert_eq!(u["email"], format!("{role}@{slug}.demo"));
            for field in ["user_id", "email", "password", "role"] {
                assert!(u[field].is_string(), "{field} missing: {u}");
            }
        }
    }
    let text = stdout(&data_dir, &["seed-demo"]);
    assert!(text.contains("nothing created"), "{text}");

    // Logins (with the second run's credentials): each admin sees exactly its tenant's users.
    let acme = tenant(&second, "acme-capital");
    let beta = tenant(&second, "beta-quant");
    let acme_token = login(&client, &base, user(acme, "admin"));
    let beta_token = login(&client, &base, user(beta, "admin"));
    assert_eq!(visible_emails(&client, &base, &acme_token), emails(acme));
    assert_eq!(visible_emails(&client, &base, &beta_token), emails(beta));
    login(&client, &base, owner);
    login(&client, &base, &second["platform"]["staff"]);

    // No token, or a wrong password: 401.
    let resp = get_users(&client, &base, None);
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    assert!(resp.headers().contains_key("www-authenticate"));
    let wrong = client
        .post(format!("{base}/api/v1/auth/token"))
        .json(&json!({ "email": "admin@acme-capital.demo", "password": "not-the-password" }))
        .send()
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);

    // `token --user` signs with the same (generated) key the server verifies with.
    let gamma = tenant(&second, "gamma-macro");
    let gamma_admin = user(gamma, "admin")["user_id"].as_str().unwrap();
    let token = stdout(&data_dir, &["token", "--user", gamma_admin, "--ttl", "120"]);
    let token = token.trim();
    assert_eq!(token.split('.').count(), 3, "not a JWT: {token:?}");
    assert_eq!(visible_emails(&client, &base, token), emails(gamma));
    let unknown = command(
        &data_dir,
        &["token", "--user", &uuid::Uuid::new_v4().to_string()],
    )
    .output()
    .unwrap();
    assert!(
        !unknown.status.success(),
        "token for an unknown user succeeded"
    );
    let stderr = String::from_utf8_lossy(&unknown.stderr);
    assert!(stderr.contains("no user with id"), "{stderr}");
    // One line a person reads, even with backtraces switched on.
    let unknown = command(
        &data_dir,
        &["token", "--user", &uuid::Uuid::new_v4().to_string()],
    )
    .env("RUST_BACKTRACE", "1")
    .env("ALPHAPULSE_LOG", "off")
    .output()
    .unwrap();
    let stderr = String::from_utf8_lossy(&unknown.stderr);
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with("error: ") && !stderr.contains("Stack backtrace"),
        "{stderr}"
    );

    // tenant create / list from a second process.
    let created = stdout(
        &data_dir,
        &[
            "tenant",
            "create",
            "--name",
            "Delta Fund",
            "--slug",
            "delta-fund",
            "--tier",
            "pro",
            "--max-users",
            "12",
        ],
    );
    assert!(created.contains("delta-fund"), "{created}");
    let duplicate = command(
        &data_dir,
        &[
            "tenant",
            "create",
            "--name",
            "Delta again",
            "--slug",
            "delta-fund",
            "--tier",
            "pro",
        ],
    )
    .output()
    .unwrap();
    assert!(!duplicate.status.success(), "duplicate slug accepted");

    // Its first admin, from the command line: a generated password, printed once, that logs in.
    let first: Value = serde_json::from_str(&stdout(
        &data_dir,
        &[
            "user",
            "create",
            "--tenant",
            "delta-fund",
            "--email",
            "Boss@Delta.example",
            "--role",
            "admin",
            "--json",
        ],
    ))
    .unwrap();
    assert_eq!(first["email"], "boss@delta.example", "{first}");
    let boss_token = login(&client, &base, &first);
    assert_eq!(
        visible_emails(&client, &base, &boss_token),
        BTreeSet::from(["boss@delta.example".to_owned()])
    );
    // A chosen password from stdin; a role of the wrong side of the platform line is refused.
    let mut chosen = command(
        &data_dir,
        &[
            "user",
            "create",
            "--tenant",
            "delta-fund",
            "--email",
            "t@delta.example",
            "--role",
            "trader",
            "--password-stdin",
        ],
    )
    .stdin(std::process::Stdio::piped())
    .stdout(std::process::Stdio::piped())
    .spawn()
    .unwrap();
    {
        use std::io::Write;
        chosen
            .stdin
            .take()
            .unwrap()
            .write_all(b"a chosen passphrase\n")
            .unwrap();
    }
    let out = chosen.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success() && !text.contains("password"), "{text}");
    login(
        &client,
        &base,
        &json!({"email": "t@delta.example", "password": "a chosen passphrase"}),
    );
    let owner_here = command(
        &data_dir,
        &[
            "user",
            "create",
            "--tenant",
            "delta-fund",
            "--email",
            "o@delta.example",
            "--role",
            "owner",
        ],
    )
    .output()
    .unwrap();
    assert!(
        !owner_here.status.success(),
        "an owner was created in a tenant"
    );
    assert!(String::from_utf8_lossy(&owner_here.stderr).contains("role"));
    let list: Value =
        serde_json::from_str(&stdout(&data_dir, &["tenant", "list", "--json"])).unwrap();
    let listed: BTreeSet<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["slug"].as_str().unwrap())
        .collect();
    for slug in SLUGS.iter().chain(&["platform", "delta-fund"]) {
        assert!(listed.contains(slug), "{slug} not listed: {list}");
    }
    let delta = list
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["slug"] == "delta-fund")
        .unwrap();
    assert_eq!(
        (
            &delta["subscription_tier"],
            &delta["max_users"],
            &delta["status"]
        ),
        (&json!("pro"), &json!(12), &json!("active"))
    );

    // Suspending beta-quant from a second process: its admin gets 403 once the server's
    // principal cache (started with a TTL of PRINCIPAL_TTL_SECONDS) expires; acme is
    // unaffected. Polled, with a deadline far above the TTL (a slow machine is not a failure;
    // a suspension that never shows is).
    let deadline = Duration::from_secs(PRINCIPAL_TTL_SECONDS + 30);
    let suspended_at = Instant::now();
    let out = stdout(&data_dir, &["tenant", "suspend", "beta-quant"]);
    assert!(out.contains("suspended"), "{out}");
    let mut last = get_users(&client, &base, Some(&beta_token));
    while last.status() == StatusCode::OK && suspended_at.elapsed() < deadline {
        std::thread::sleep(Duration::from_millis(100));
        last = get_users(&client, &base, Some(&beta_token));
    }
    let status = last.status();
    let body: Value = last.json().unwrap_or(Value::Null);
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "beta-quant still served {deadline:?} after its suspension: {body}"
    );
    assert_eq!(body["detail"], "Forbidden: tenant suspended", "{body}");
    eprintln!("suspension took effect after {:?}", suspended_at.elapsed());
    assert_eq!(visible_emails(&client, &base, &acme_token), emails(acme));
    let suspended: Value = serde_json::from_str(&stdout(
        &data_dir,
        &["tenant", "list", "--status", "suspended", "--json"],
    ))
    .unwrap();
    let slugs: Vec<&str> = suspended
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["slug"].as_str().unwrap())
        .collect();
    assert_eq!(slugs, ["beta-quant"]);

    // Activation (by id) is recorded too; the platform tenant cannot be suspended.
    let beta_id = beta["id"].as_str().unwrap();
    let out = stdout(&data_dir, &["tenant", "activate", beta_id]);
    assert!(out.contains("active"), "{out}");
    let platform = command(&data_dir, &["tenant", "suspend", "platform"])
        .output()
        .unwrap();
    assert!(
        !platform.status.success(),
        "the platform tenant was suspended"
    );

    // The audit log has the CLI's tenant actions (read through the owner URL).
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = Text)]
        row: String,
    }
    let rows: Vec<String> = diesel::sql_query(
        "SELECT action || ' ' || target AS row FROM audit_log WHERE user_id IS NULL \
         ORDER BY created_at",
    )
    .load::<Row>(&mut DataDirDb::open(&data_dir).conn)
    .unwrap()
    .into_iter()
    .map(|r| r.row)
    .collect();
    let delta_id = delta["id"].as_str().unwrap();
    for expected in [
        format!("tenant.create tenant:{delta_id}"),
        format!("tenant.suspend tenant:{beta_id}"),
        format!("tenant.activate tenant:{beta_id}"),
        format!("user.create user:{}", first["id"].as_str().unwrap()),
    ] {
        assert!(
            rows.contains(&expected),
            "no audit row {expected:?}: {rows:?}"
        );
    }
    drop(server);
}

#[test]
fn a_configured_database_url_requires_a_jwt_secret() {
    let parent = temp_dir(0o755);
    let data_dir = parent.path().join("data");
    for args in [
        &["serve"][..],
        &["token", "--user", "00000000-0000-0000-0000-000000000001"][..],
    ] {
        let out = command(&data_dir, args)
            // Never contacted: the key check comes first.
            .env(
                "ALPHAPULSE_DATABASE_URL",
                "postgres://nobody@127.0.0.1:1/none",
            )
            .env_remove("ALPHAPULSE_JWT_SECRET")
            .env_remove("ALPHAPULSE_JWT_KEYS_FILE")
            .output()
            .unwrap();
        assert!(!out.status.success(), "{args:?} started without a JWT key");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("ALPHAPULSE_JWT_SECRET") && err.contains("ALPHAPULSE_DATABASE_URL"),
            "{args:?}: {err}"
        );
        assert!(
            !data_dir.join("jwt-secret").exists(),
            "a secret was generated for a configured database"
        );
    }
    let short = command(&data_dir, &["serve"])
        .env(
            "ALPHAPULSE_DATABASE_URL",
            "postgres://nobody@127.0.0.1:1/none",
        )
        .env("ALPHAPULSE_JWT_SECRET", "too-short")
        .output()
        .unwrap();
    assert!(!short.status.success());
    let err = String::from_utf8_lossy(&short.stderr);
    assert!(err.contains("at least 32"), "{err}");
    assert!(!err.contains("too-short"), "the secret was echoed: {err}");
}

/// The seed-000 routes on the demo data through the real binary: each demo tenant gets its own
/// positions, metrics and regime from its own exchange account and universe.
#[test]
fn demo_tenants_have_their_own_positions_and_regimes() {
    let parent = temp_dir(0o755);
    let data_dir = parent.path().join("data");
    let server = Server::start(&data_dir, &["--demo"]);
    let client = Client::new();
    let demo = seed_demo_json(&data_dir);
    let mut spot_by_tenant = Vec::new();
    for slug in ["acme-capital", "gamma-macro"] {
        let token = login(&client, &server.base, user(tenant(&demo, slug), "viewer"));
        let get = |path: &str| {
            let res = client
                .get(format!("{}{path}", server.base))
                .bearer_auth(&token)
                .send()
                .unwrap();
            let status = res.status();
            let body: Value = res.json().unwrap();
            assert_eq!(status, StatusCode::OK, "{slug} {path}: {body}");
            body
        };
        let spot = get("/api/v1/positions/spot");
        let symbols: BTreeSet<String> = spot
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["symbol"].as_str().unwrap().to_owned())
            .collect();
        assert!(!symbols.is_empty(), "{slug} has no spot positions");
        spot_by_tenant.push(symbols);
        let metrics = get("/api/v1/positions/metrics");
        assert!(metrics["hedge_ratio"].is_number());
        let current = get("/api/v1/regime/current");
        assert!(current["current_regime"].is_string(), "{current}");
        assert_eq!(current["model"]["n_states"], 5);
        let history = get("/api/v1/regime/history?days=30");
        assert_eq!(history.as_array().unwrap().len(), 30);
    }
    assert_ne!(
        spot_by_tenant[0], spot_by_tenant[1],
        "tenants share holdings"
    );
}

#[test]
fn demo_data_stays_on_a_local_loopback_server_unless_told_otherwise() {
    let parent = temp_dir(0o755);
    let data_dir = parent.path().join("data");
    let refusals: [(&[&str], Option<&str>, &str); 2] = [
        (
            &["serve", "--demo"],
            Some("postgres://nobody@127.0.0.1:1/none"),
            "ALPHAPULSE_DATABASE_URL",
        ),
        (
            &["serve", "--demo", "--bind", "0.0.0.0:0"],
            None,
            "loopback",
        ),
    ];
    for (args, url, named) in refusals {
        let mut cmd = command(&data_dir, args);
        if let Some(url) = url {
            cmd.env("ALPHAPULSE_DATABASE_URL", url)
                .env("ALPHAPULSE_JWT_SECRET", "0123456789abcdef0123456789abcdef");
        }
        let out = cmd.output().unwrap();
        assert!(!out.status.success(), "{args:?} served the demo");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("--demo-anywhere") && err.contains(named),
            "{args:?}: {err}"
        );
        // Refused before anything was started or written.
        assert!(!data_dir.exists(), "{args:?} touched the data dir");
    }
}
