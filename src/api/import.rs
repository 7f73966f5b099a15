//! Reading an import: a JSON array or CSV of phone numbers, each bad row kept with its line
//! (the CSV reader is in `import_csv`).

use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::PhoneNumber;
use crate::http::Problem;
use crate::store::ImportOutcome;

/// Largest import body: 100,000 numbers with generous formatting fit.
pub const IMPORT_BODY_LIMIT: usize = 4 * 1024 * 1024;
/// Most rows in one import; larger lists are split by the client.
pub const MAX_IMPORT_ROWS: usize = 100_000;
/// Invalid rows listed in the answer; the rest are only counted.
const MAX_REPORTED: usize = 1000;

/// A row that is not a phone number.
#[derive(Debug, Serialize, ToSchema)]
pub struct InvalidRow {
    /// 1-based: the CSV line, or the position in the JSON array.
    pub line: usize,
    pub value: String,
    pub reason: String,
}

/// What an import did.
#[derive(Debug, Serialize, ToSchema)]
pub struct ImportReport {
    /// New members.
    pub inserted: u64,
    /// Numbers that were already members (subscribed or not); they are unchanged.
    pub already_present: u64,
    /// Rows that are not phone numbers (at most 1,000 listed).
    pub invalid: Vec<InvalidRow>,
    pub invalid_count: usize,
}

impl ImportReport {
    /// The answer for a stored import.
    pub fn new(outcome: ImportOutcome, mut invalid: Vec<InvalidRow>) -> Self {
        let invalid_count = invalid.len();
        invalid.truncate(MAX_REPORTED);
        Self {
            inserted: outcome.inserted,
            already_present: outcome.already_present,
            invalid,
            invalid_count,
        }
    }
}

/// Valid numbers to import and the rows that were not.
#[derive(Debug, Default)]
pub struct Parsed {
    pub phones: Vec<PhoneNumber>,
    pub invalid: Vec<InvalidRow>,
}

impl Parsed {
    pub(super) fn push(&mut self, line: usize, value: &str) {
        match PhoneNumber::parse(value) {
            Ok(phone) => self.phones.push(phone),
            Err(e) => self.invalid.push(InvalidRow {
                line,
                value: value.to_owned(),
                reason: e.to_string(),
            }),
        }
    }
}

/// A JSON array of strings; a non-string element is an invalid row, anything else a 400.
pub fn parse_json(bytes: &[u8]) -> Result<Parsed, Problem> {
    let values: Vec<serde_json::Value> = serde_json::from_slice(bytes).map_err(|e| {
        Problem::bad_request(
            "invalid_json",
            format!("expected a JSON array of phone numbers: {e}"),
        )
    })?;
    too_many(values.len())?;
    let mut parsed = Parsed::default();
    for (i, value) in values.iter().enumerate() {
        match value.as_str() {
            Some(text) => parsed.push(i + 1, text),
            None => parsed.invalid.push(InvalidRow {
                line: i + 1,
                value: value.to_string(),
                reason: "not a string".into(),
            }),
        }
    }
    Ok(parsed)
}

/// A 413 naming the limit when an import has more rows than one request may carry.
pub(super) fn too_many(rows: usize) -> Result<(), Problem> {
    if rows <= MAX_IMPORT_ROWS {
        return Ok(());
    }
    Err(Problem::new(
        axum::http::StatusCode::PAYLOAD_TOO_LARGE,
        "too_many_rows",
        format!("{rows} rows; at most {MAX_IMPORT_ROWS} per import, split the list"),
    )
    .with("max_rows", MAX_IMPORT_ROWS))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_non_strings_are_invalid_rows() {
        let p = parse_json(br#"["+14155550100", 5, "x"]"#).expect("parses");
        let lines: Vec<usize> = p.invalid.iter().map(|r| r.line).collect();
        assert_eq!(lines, vec![2, 3]);
    }
}
