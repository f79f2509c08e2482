//! The header: which column is where, each of [`COLUMNS`] exactly once and nothing else.

use super::{errors::Collector, COLUMNS};

/// Where each column is in a record.
pub(super) struct Layout {
    index: [usize; 7],
}

impl Layout {
    /// The layout the header gives, or `None` after recording its problems (on line 1).
    pub(super) fn from_header(header: &csv::StringRecord, errors: &mut Collector) -> Option<Self> {
        let mut found: [Option<usize>; 7] = [None; 7];
        // The expected header is given with the first unknown column only.
        let mut expected = Some(format!(" (expected {})", COLUMNS.join(",")));
        for (position, name) in header.iter().enumerate() {
            let name = name.trim().trim_start_matches('\u{feff}');
            let lower = name.to_ascii_lowercase();
            match COLUMNS.iter().position(|c| *c == lower) {
                Some(column) if found[column].is_some() => {
                    errors.push(1, format!("column {name:?} appears more than once"));
                }
                Some(column) => found[column] = Some(position),
                None => {
                    let expected = expected.take().unwrap_or_default();
                    errors.push(1, format!("unknown column {name:?}{expected}"));
                }
            }
        }
        let missing: Vec<&str> = COLUMNS
            .iter()
            .zip(found)
            .filter(|(_, f)| f.is_none())
            .map(|(c, _)| *c)
            .collect();
        if !missing.is_empty() {
            errors.push(1, format!("missing column(s): {}", missing.join(", ")));
        }
        if !errors.is_empty() {
            return None;
        }
        let mut index = [0; 7];
        for (slot, f) in index.iter_mut().zip(found) {
            *slot = f?;
        }
        Some(Self { index })
    }

    /// The trimmed value of `column` (an index of [`COLUMNS`]) in `record`.
    pub(super) fn field<'r>(&self, record: &'r csv::StringRecord, column: usize) -> &'r str {
        record.get(self.index[column]).unwrap_or("").trim()
    }
}
