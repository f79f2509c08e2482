//! The Prometheus endpoint of a real server: on its own listener (not the API port), in the
//! text exposition format (parsed here with a real parser), with the series the operators
//! watch and bounded tenant labels.

use std::collections::BTreeSet;

use crate::e2e::support::{metrics_addr, run_ok, temp_dir, Server};

#[test]
fn metrics_are_served_on_their_own_listener_in_the_prometheus_text_format() {
    let parent = temp_dir(0o755);
    let data_dir = parent.path().join("data");
    let server = Server::start_with_env(
        &data_dir,
        &["--demo"],
        &[("ALPHAPULSE_METRICS_TENANT_LABELS", "1")],
    );
    let metrics = metrics_addr(&server.log_text()).expect("the metrics listener is logged");
    let client = reqwest::blocking::Client::new();
    // The API port does not serve them.
    let on_api = client
        .get(format!("{}/metrics", server.base))
        .send()
        .unwrap();
    assert_eq!(on_api.status(), 404);

    // Traffic: a login, authenticated reads of two tenants, a bad token, an unknown object.
    let token = |email: &str, password: &str| -> String {
        let res: serde_json::Value = client
            .post(format!("{}/api/v1/auth/token", server.base))
            .json(&serde_json::json!({"email": email, "password": password}))
            .send()
            .unwrap()
            .json()
            .unwrap();
        res["access_token"].as_str().unwrap().to_owned()
    };
    let acme = token("admin@acme-capital.demo", "demo-admin-acme-capital");
    let beta = token("admin@beta-quant.demo", "demo-admin-beta-quant");
    for t in [&acme, &acme, &beta] {
        let res = client
            .get(format!("{}/api/v1/users", server.base))
            .bearer_auth(t)
            .send()
            .unwrap();
        assert_eq!(res.status(), 200);
    }
    let forged = client
        .get(format!("{}/api/v1/users", server.base))
        .bearer_auth("not.a.token")
        .send()
        .unwrap();
    assert_eq!(forged.status(), 401);
    for t in [&acme, &beta] {
        let missing = client
            .get(format!(
                "{}/api/v1/ensemble/00000000-0000-4000-8000-000000000001/weights",
                server.base
            ))
            .bearer_auth(t)
            .send()
            .unwrap();
        assert_eq!(missing.status(), 404);
    }

    let text = client
        .get(format!("http://{metrics}/metrics"))
        .send()
        .unwrap()
        .text()
        .unwrap();
    let scrape = prometheus_parse::Scrape::parse(text.lines().map(|l| Ok(l.to_owned())))
        .expect("the exposition text parses");
    // The sum of the matching samples; `None` when no sample matches (a missing series is
    // not a zero), and a histogram or summary here is a mistake of the test.
    let value = |name: &str, labels: &[(&str, &str)]| -> Option<f64> {
        scrape
            .samples
            .iter()
            .filter(|s| s.metric == name)
            .filter(|s| labels.iter().all(|(k, v)| s.labels.get(k) == Some(*v)))
            .map(|s| match &s.value {
                prometheus_parse::Value::Counter(v)
                | prometheus_parse::Value::Gauge(v)
                | prometheus_parse::Value::Untyped(v) => *v,
                other => panic!("{name}: not a counter, gauge or untyped value: {other:?}"),
            })
            .fold(None, |sum, v| Some(sum.unwrap_or(0.0) + v))
    };
    // The pool, sampled at start-up: its size, and the checkouts of the start-up itself.
    assert!(
        value("db_pool_max_size", &[]).is_some_and(|v| v >= 1.0),
        "{text}"
    );
    assert!(
        value("db_pool_checkouts_total", &[]).is_some_and(|v| v >= 1.0),
        "{text}"
    );
    assert_eq!(value("db_unreachable", &[]), Some(0.0), "{text}");
    // The async read counters are exported from the first sample on (zero or more then).
    for name in [
        "db_async_reads_total",
        "db_async_reads_one_round_trip_total",
    ] {
        assert!(value(name, &[]).is_some_and(|v| v >= 0.0), "{name}: {text}");
    }
    assert_eq!(
        value(
            "http_requests_total",
            &[
                ("method", "GET"),
                ("route", "/api/v1/users"),
                ("status", "200")
            ]
        ),
        Some(3.0)
    );
    // Exactly the two logins above (readiness polls `/ready`, nothing else logs in).
    assert_eq!(
        value(
            "http_requests_total",
            &[("route", "/api/v1/auth/token"), ("status", "200")]
        ),
        Some(2.0)
    );
    assert_eq!(
        value("api_auth_failures_total", &[("reason", "malformed")]),
        Some(1.0)
    );
    // The duration histogram of the route template exists with its buckets.
    let histogram = scrape.samples.iter().find(|s| {
        s.metric == "api_request_duration_seconds" && s.labels.get("route") == Some("/api/v1/users")
    });
    assert!(
        matches!(histogram.map(|s| &s.value), Some(prometheus_parse::Value::Histogram(b)) if b.len() >= 10),
        "{histogram:?}"
    );
    // Two tenants' 404s on an object route, one label of their own (the cap is 1).
    assert_eq!(value("api_cross_tenant_access_attempts", &[]), Some(2.0));
    let tenants: BTreeSet<&str> = scrape
        .samples
        .iter()
        .filter(|s| s.metric == "api_cross_tenant_access_attempts")
        .filter_map(|s| s.labels.get("tenant"))
        .collect();
    assert_eq!(tenants.len(), 2, "{tenants:?}");
    assert!(tenants.contains("other"), "{tenants:?}");
    drop(server);
    // `seed-demo` on the same data dir still works with the server gone (no leftovers).
    run_ok(&data_dir, &["seed-demo"]);
}
