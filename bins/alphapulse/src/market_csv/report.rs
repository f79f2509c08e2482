//! What a finished import reports: the one line `alphapulse market import` prints.

use std::path::Path;

/// `Imported 1 row (1 symbol(s)) from FILE.`, `Imported 120 rows (3 symbol(s)) from FILE.`
pub fn import_summary(rows: usize, symbols: usize, path: &Path) -> String {
    let noun = if rows == 1 { "row" } else { "rows" };
    format!(
        "Imported {rows} {noun} ({symbols} symbol(s)) from {}.",
        path.display()
    )
}
