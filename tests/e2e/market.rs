//! Market data through the real binary: `market import --csv` (idempotent re-import, a bad
//! file refused with its line number and nothing written), `market symbols`, and `seed-demo`
//! loading the demo market data next to imported data.

use std::{collections::BTreeMap, fmt::Write as _, path::Path, time::Instant};

use diesel::{sql_types::Text, QueryableByName, RunQueryDsl};
use serde_json::Value;

use crate::e2e::support::{command, run_ok, stdout, temp_dir, DataDirDb};

const CSV_SYMBOLS: [&str; 3] = ["AAAUSDT", "BBBUSDT", "CCCUSDT"];
const DAYS: u32 = 40;

/// Symbol -> (first day, last day, candles), from `market symbols --json`.
fn symbols(data_dir: &Path) -> BTreeMap<String, (String, String, i64)> {
    let out = stdout(data_dir, &["market", "symbols", "--json"]);
    let rows: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"));
    rows.as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["symbol"].as_str().unwrap().to_owned(),
                (
                    r["first_day"].as_str().unwrap().to_owned(),
                    r["last_day"].as_str().unwrap().to_owned(),
                    r["candles"].as_i64().unwrap(),
                ),
            )
        })
        .collect()
}

/// `DAYS` days of each CSV symbol from 2024-01-01; odd days as RFC 3339, even as dates.
fn good_csv() -> String {
    let mut text = "symbol,open_time,open,high,low,close,volume\n".to_owned();
    for (i, symbol) in CSV_SYMBOLS.iter().enumerate() {
        for day in 0..DAYS {
            let date = chrono::NaiveDate::from_ymd_opt(2024, 1, 1).unwrap()
                + chrono::Days::new(u64::from(day));
            let time = if day % 2 == 1 {
                format!("{date}T00:00:00Z")
            } else {
                date.to_string()
            };
            let base = 10 * (i as u32 + 1) + day;
            writeln!(
                text,
                "{symbol},{time},{base}.12,{}.5,{}.000000000000000001,{base}.345678901234567891,1234.5",
                base + 1,
                base - 1
            )
            .unwrap();
        }
    }
    text
}

#[test]
fn csv_import_is_idempotent_and_all_or_nothing_and_demo_data_is_added() {
    let parent = temp_dir(0o755);
    let data_dir = parent.path().join("data");
    let good = parent.path().join("good.csv");
    std::fs::write(&good, good_csv()).unwrap();
    let rows = CSV_SYMBOLS.len() as u32 * DAYS;

    // `market` commands want a migrated database (as `tenant` does).
    let out = command(&data_dir, &["market", "symbols"]).output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("alphapulse migrate"));
    run_ok(&data_dir, &["migrate"]);
    assert!(symbols(&data_dir).is_empty());

    // Import, then import again: the same rows are written (replaced), none duplicated.
    let good_arg = good.to_str().unwrap();
    for _ in 0..2 {
        let out = stdout(&data_dir, &["market", "import", "--csv", good_arg]);
        assert!(
            out.contains(&format!("Imported {rows} rows (3 symbols)")),
            "{out}"
        );
    }
    let listed = symbols(&data_dir);
    assert_eq!(listed.len(), 3, "{listed:?}");
    for symbol in CSV_SYMBOLS {
        assert_eq!(
            listed[symbol],
            (
                "2024-01-01".to_owned(),
                "2024-02-09".to_owned(),
                i64::from(DAYS)
            )
        );
    }
    let text = stdout(&data_dir, &["market", "symbols"]);
    assert!(
        text.contains("AAAUSDT") && text.contains("2024-02-09"),
        "{text}"
    );

    // A bad row on line 4: nothing of the file is written, the line is named.
    let bad = parent.path().join("bad.csv");
    std::fs::write(
        &bad,
        "symbol,open_time,open,high,low,close,volume\n\
         NEWUSDT,2024-03-01,1,2,0.5,1.5,10\n\
         AAAUSDT,2024-01-01,999,1000,998,999,1\n\
         NEWUSDT,2024-03-02,1,0.5,2,1.5,10\n",
    )
    .unwrap();
    let out = command(
        &data_dir,
        &["market", "import", "--csv", bad.to_str().unwrap()],
    )
    .output()
    .unwrap();
    assert!(!out.status.success(), "a bad file was imported");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("line 4") && err.contains("high 0.5 is below low 2"),
        "{err}"
    );
    assert!(
        out.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert_eq!(symbols(&data_dir), listed, "the bad file changed the data");
    // Stored exactly (NUMERIC(36, 18)), and not replaced by the bad file's row.
    #[derive(QueryableByName)]
    struct Close {
        #[diesel(sql_type = Text)]
        close: String,
    }
    let stored: Vec<String> = diesel::sql_query(
        "SELECT close::text AS close FROM market_candles \
         WHERE symbol = 'AAAUSDT' AND open_time = '2024-01-01'",
    )
    .load::<Close>(&mut DataDirDb::open(&data_dir).conn)
    .unwrap()
    .into_iter()
    .map(|c| c.close)
    .collect();
    assert_eq!(stored, ["10.345678901234567891"]);

    // A missing file and a wrong header fail too.
    let missing = command(
        &data_dir,
        &["market", "import", "--csv", "/nonexistent.csv"],
    )
    .output()
    .unwrap();
    assert!(!missing.status.success());
    let header = parent.path().join("header.csv");
    std::fs::write(&header, "symbol,day,open,high,low,close,volume\n").unwrap();
    let out = command(
        &data_dir,
        &["market", "import", "--csv", header.to_str().unwrap()],
    )
    .output()
    .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("line 1") && err.contains("unknown column \"day\""),
        "{err}"
    );

    // seed-demo adds the demo symbols (about three years up to today) next to the imported
    // ones; a second run adds nothing.
    // The test's one reading of the clock, taken before seed-demo reads its own: seed-demo's
    // "today" is this day, or the next one if midnight passes while it runs.
    let today = chrono::Utc::now().date_naive();
    let started = Instant::now();
    let out = stdout(&data_dir, &["seed-demo"]);
    let took = started.elapsed();
    eprintln!("seed-demo with market data took {took:?}");
    assert!(out.contains("Demo market data:"), "{out}");
    let listed = symbols(&data_dir);
    let recent = [
        today.to_string(),
        (today + chrono::Days::new(1)).to_string(),
    ];
    for symbol in ["BTCUSDT", "ETHUSDT", "SOLUSDT", "XRPUSDT", "LINKUSDT"] {
        let (first, last, candles) = &listed[symbol];
        assert_eq!(first, "2023-09-01", "{symbol}");
        assert!(recent.contains(last), "{symbol}: {last}");
        assert!(*candles >= 1095, "{symbol}: {candles}");
    }
    assert_eq!(listed.len(), 13, "{listed:?}");
    assert_eq!(listed["AAAUSDT"].2, i64::from(DAYS));
    let again = stdout(&data_dir, &["seed-demo"]);
    assert!(again.contains("nothing created"), "{again}");
    assert!(!again.contains("Demo market data:"), "{again}");
    assert_eq!(symbols(&data_dir), listed);
}
