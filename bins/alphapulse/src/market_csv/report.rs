//! What a finished import reports: the one line `alphapulse market import` prints.

use std::path::Path;

/// `Imported 1 row (1 symbol) from FILE.`, `Imported 120 rows (3 symbols) from FILE.`
pub fn import_summary(rows: usize, symbols: usize, path: &Path) -> String {
    let noun = if rows == 1 { "row" } else { "rows" };
    let symbol_noun = if symbols == 1 { "symbol" } else { "symbols" };
    format!(
        "Imported {rows} {noun} ({symbols} {symbol_noun}) from {}.",
        path.display()
    )
}
