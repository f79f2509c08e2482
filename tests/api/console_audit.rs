//! The decision audit trail (seed 004): filters restrict the rows, the CSV has the seed's
//! header and columns, RFC 4180 quoting, the attachment name, 422 for a reversed date range,
//! and who reads whose rows.

use actix_web::test::{self, TestRequest};
use alphapulse_domain::{
    ports::{DecisionAction as A, DecisionReason as R},
    Side,
};
use serde_json::json;

use super::common::{console::*, *};

fn get(path: &str, token: &str) -> TestRequest {
    TestRequest::get().uri(path).insert_header(bearer(token))
}

/// The CSV of `path`: status, headers and body text.
async fn csv(app: &TestApp, path: &str, token: &str) -> (u16, Option<String>, String) {
    let svc = test_service!(app);
    let res = test::call_service(&svc, get(path, token).to_request()).await;
    let status = res.status().as_u16();
    let disposition = res
        .headers()
        .get("content-disposition")
        .map(|v| v.to_str().unwrap().to_owned());
    let body = test::read_body(res).await;
    (
        status,
        disposition,
        String::from_utf8(body.to_vec()).unwrap(),
    )
}

/// Tenant a: 4 decisions on two days and two vendors; tenant b: 2.
fn world() -> Firm {
    let f = firm();
    let ea = ensemble_fixture(&f.app, f.a.id);
    let eb = ensemble_fixture(&f.app, f.b.id);
    let buy = Some(Side::Buy);
    decision_fixture(
        &f.app,
        f.a.id,
        ea,
        "BTCUSDT",
        buy,
        A::Queued,
        &[R::BelowThreshold],
        days_ago(10),
    );
    decision_fixture(
        &f.app,
        f.a.id,
        ea,
        "BTCUSDT",
        buy,
        A::AutoExecuted,
        &[],
        days_ago(10),
    );
    decision_fixture(
        &f.app,
        f.a.id,
        ea,
        "ETHUSDT",
        Some(Side::Sell),
        A::Rejected,
        &[R::RiskLimit],
        days_ago(3),
    );
    decision_fixture(
        &f.app,
        f.a.id,
        ea,
        "ETHUSDT",
        buy,
        A::Queued,
        &[R::NoRule],
        days_ago(3),
    );
    decision_fixture(
        &f.app,
        f.b.id,
        eb,
        "SOLUSDT",
        buy,
        A::Queued,
        &[R::AutopostDisabled],
        days_ago(3),
    );
    decision_fixture(
        &f.app,
        f.b.id,
        eb,
        "SOLUSDT",
        buy,
        A::Queued,
        &[R::AutopostDisabled],
        days_ago(1),
    );
    f
}

fn day(days: i64) -> String {
    days_ago(days).date_naive().to_string()
}

fn count(res: &JsonResponse) -> usize {
    res.body["items"].as_array().map_or(0, Vec::len)
}

#[actix_web::test]
async fn test_filters_restrict_rows() {
    let f = world();
    let all = f.app.send(get("/api/v1/audit", &f.a.admin)).await;
    assert_eq!(all.status, 200, "{:?}", all.body);
    assert_eq!(count(&all), 4, "tenant a sees its own rows only");
    let ts: Vec<&str> = all.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["timestamp"].as_str().unwrap())
        .collect();
    assert!(ts.windows(2).all(|w| w[0] >= w[1]), "newest first: {ts:?}");
    for (query, expected) in [
        (format!("date_from={}", day(5)), 2),
        (format!("date_to={}", day(5)), 2),
        (format!("date_from={}&date_to={}", day(10), day(10)), 2),
        ("action=queued".to_owned(), 2),
        ("action=auto_executed".to_owned(), 1),
        ("vendor=paper:ETHUSDT".to_owned(), 2),
        (
            format!("vendor=paper:ETHUSDT&action=rejected&date_from={}", day(4)),
            1,
        ),
        ("vendor=paper:SOLUSDT".to_owned(), 0),
    ] {
        let res = f
            .app
            .send(get(&format!("/api/v1/audit?{query}"), &f.a.admin))
            .await;
        assert_eq!(res.status, 200, "{query}: {:?}", res.body);
        assert_eq!(count(&res), expected, "{query}");
        let (status, _, text) = csv(
            &f.app,
            &format!("/api/v1/audit/export.csv?{query}"),
            &f.a.admin,
        )
        .await;
        assert_eq!(status, 200);
        assert_eq!(text.lines().count(), expected + 1, "{query}: {text}");
    }
    // Pages: 3 + 1, by cursor.
    let p1 = f.app.send(get("/api/v1/audit?limit=3", &f.a.admin)).await;
    assert_eq!(count(&p1), 3);
    let cursor = p1.body["next_cursor"].as_str().unwrap();
    let p2 = f
        .app
        .send(get(
            &format!("/api/v1/audit?limit=3&cursor={cursor}"),
            &f.a.admin,
        ))
        .await;
    assert_eq!(count(&p2), 1);
    assert!(p2.body["next_cursor"].is_null());
    // The owner reads every tenant, or one; staff their assigned tenant only.
    assert!(count(&f.app.send(get("/api/v1/audit?limit=500", &f.owner)).await) >= 6);
    let one = f
        .app
        .send(get(
            &format!("/api/v1/audit?tenant_id={}", f.b.id),
            &f.owner,
        ))
        .await;
    assert_eq!(count(&one), 2);
    assert_eq!(count(&f.app.send(get("/api/v1/audit", &f.staff)).await), 4);
    let hidden = f
        .app
        .send(get(
            &format!("/api/v1/audit?tenant_id={}", f.b.id),
            &f.staff,
        ))
        .await;
    assert_eq!(hidden.status, 404);
    let other = f
        .app
        .send(get(
            &format!("/api/v1/audit?tenant_id={}", f.b.id),
            &f.a.admin,
        ))
        .await;
    assert_eq!(other.status, 404);
    assert_eq!(
        f.app.send(get("/api/v1/audit", &f.a.viewer)).await.status,
        403
    );
}

#[actix_web::test]
async fn test_csv_headers_and_columns() {
    let f = world();
    let (status, disposition, text) = csv(&f.app, "/api/v1/audit/export.csv", &f.a.admin).await;
    assert_eq!(status, 200, "{text}");
    let today = chrono::Utc::now().format("%Y%m%d");
    assert_eq!(
        disposition,
        Some(format!("attachment; filename=audit_export_{today}.csv"))
    );
    let mut lines = text.split("\r\n");
    assert_eq!(
        lines.next(),
        Some("timestamp,tenant_id,txn_id,vendor_normalized,action,not_auto_post_reason,calibrated_p,threshold_used,user_id")
    );
    let rows: Vec<Vec<String>> = lines
        .filter(|l| !l.is_empty())
        .map(|l| l.split(',').map(str::to_owned).collect())
        .collect();
    assert_eq!(rows.len(), 4);
    for row in &rows {
        assert_eq!(row.len(), 9, "{row:?}");
        assert!(
            chrono::DateTime::parse_from_rfc3339(&row[0]).is_ok(),
            "{row:?}"
        );
        assert_eq!(row[1], f.a.id.to_string());
        assert!(uuid::Uuid::parse_str(&row[2]).is_ok());
        assert!(row[3].starts_with("paper:"));
        assert_eq!(row[6], "0.88");
        assert_eq!(row[7], "0.85");
    }
    // Oldest first in the export; the reasons as stored.
    assert!(rows.windows(2).all(|w| w[0][0] <= w[1][0]));
    let reasons: Vec<&str> = rows.iter().map(|r| r[5].as_str()).collect();
    assert!(
        reasons.contains(&"below_threshold")
            && reasons.contains(&"")
            && reasons.contains(&"risk_limit")
    );
}

#[actix_web::test]
async fn a_reversed_date_range_and_bad_filters_are_422_before_any_byte() {
    let f = world();
    let q = format!("date_from={}&date_to={}", day(1), day(5));
    for path in [
        format!("/api/v1/audit/export.csv?{q}"),
        format!("/api/v1/audit?{q}"),
    ] {
        let res = f.app.send(get(&path, &f.a.admin)).await;
        assert_eq!(res.status, 422, "{path}: {:?}", res.body);
        assert_eq!(res.error_fields(), ["date_from"]);
    }
    for bad in [
        "action=deleted",
        "vendor=a%20b",
        "date_from=yesterday",
        "tenant_id=nope",
    ] {
        let res = f
            .app
            .send(get(&format!("/api/v1/audit/export.csv?{bad}"), &f.a.admin))
            .await;
        assert_eq!(res.status, 422, "{bad}: {:?}", res.body);
    }
    let none = f
        .app
        .send(TestRequest::get().uri("/api/v1/audit/export.csv"))
        .await;
    assert_eq!(none.status, 401);
    let _ = json!({});
}
