//! `alphapulse market import --csv FILE | symbols [--json]`: the shared daily market data
//! (platform scope).

use std::{fs::File, io::BufReader, path::Path, time::Instant};

use alphapulse_persistence::{repos::market, schema::market_candles, Db};
use anyhow::{Context, Result};
use chrono::{DateTime, Utc};
use diesel::{
    dsl::{count_star, max, min},
    prelude::*,
};
use serde::Serialize;

use crate::{cli::MarketAction, database::Database, market_csv};

/// Rows per write (and per progress line) of an import; all of them in ONE transaction.
const WRITE_BATCH: usize = 50_000;

pub fn run(database: &Database, action: &MarketAction) -> Result<()> {
    let db = database.command_pool()?;
    super::require_migrated(&db)?;
    match action {
        MarketAction::Import { csv } => import(&db, csv),
        MarketAction::Symbols { json } => symbols(&db, *json),
    }
}

fn import(db: &Db, path: &Path) -> Result<()> {
    let started = Instant::now();
    let file = File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let candles = market_csv::parse(BufReader::new(file))
        .with_context(|| format!("{} is not a valid candle file", path.display()))?;
    anyhow::ensure!(
        !candles.is_empty(),
        "{} has a header but no candles",
        path.display()
    );
    let symbols: std::collections::BTreeSet<&str> =
        candles.iter().map(|c| c.symbol.as_str()).collect();
    tracing::info!(
        rows = candles.len(),
        symbols = symbols.len(),
        elapsed_ms = started.elapsed().as_millis() as u64,
        "parsed the CSV file; writing"
    );
    let total = candles.len();
    let written = db
        .platform()
        .run(|conn| -> alphapulse_persistence::Result<usize> {
            let mut written = 0;
            for batch in candles.chunks(WRITE_BATCH) {
                written += market::upsert(conn, batch)?;
                if total > WRITE_BATCH {
                    tracing::info!(written, total, "writing candles");
                }
            }
            Ok(written)
        })
        .context("writing the candles (nothing was imported)")?;
    tracing::info!(
        written,
        elapsed_ms = started.elapsed().as_millis() as u64,
        "imported candles"
    );
    println!(
        "{}",
        market_csv::import_summary(written, symbols.len(), path)
    );
    Ok(())
}

/// One symbol's stored data.
#[derive(Debug, Serialize)]
struct SymbolRow {
    symbol: String,
    first_day: Option<chrono::NaiveDate>,
    last_day: Option<chrono::NaiveDate>,
    candles: i64,
}

fn symbols(db: &Db, json: bool) -> Result<()> {
    type Row = (String, Option<DateTime<Utc>>, Option<DateTime<Utc>>, i64);
    let rows: Vec<Row> = db
        .platform()
        .run(|conn| -> alphapulse_persistence::Result<Vec<Row>> {
            Ok(market_candles::table
                .filter(market_candles::interval.eq(market::DAILY))
                .group_by(market_candles::symbol)
                .select((
                    market_candles::symbol,
                    min(market_candles::open_time),
                    max(market_candles::open_time),
                    count_star(),
                ))
                .order(market_candles::symbol)
                .load(conn)?)
        })
        .context("listing the market data")?;
    let rows: Vec<SymbolRow> = rows
        .into_iter()
        .map(|(symbol, first, last, candles)| SymbolRow {
            symbol,
            first_day: first.map(|t| t.date_naive()),
            last_day: last.map(|t| t.date_naive()),
            candles,
        })
        .collect();
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&rows).context("serialising the symbols")?
        );
        return Ok(());
    }
    if rows.is_empty() {
        println!(
            "No market data: `alphapulse market import --csv FILE` or `alphapulse seed-demo`."
        );
        return Ok(());
    }
    println!(
        "{:<20} {:<10} {:<10} {:>8}",
        "symbol", "first", "last", "candles"
    );
    let day = |d: Option<chrono::NaiveDate>| d.map_or_else(|| "-".to_owned(), |d| d.to_string());
    for row in &rows {
        println!(
            "{:<20} {:<10} {:<10} {:>8}",
            row.symbol,
            day(row.first_day),
            day(row.last_day),
            row.candles
        );
    }
    Ok(())
}
