//! Reading a CSV import: one number per line, or another platform's export with a header row
//! naming its phone column among names, emails and tags.

use super::import::{InvalidRow, Parsed, too_many};
use crate::http::Problem;

/// Header names (compared without case, spaces, `_`, `-` or `.`) that mark the phone column,
/// in order of preference when an export has several (`phone` beats `mobile` beats `number`).
const PHONE_HEADERS: &[&str] = &[
    "phone",
    "phonenumber",
    "mobile",
    "mobilenumber",
    "mobilephone",
    "cell",
    "cellphone",
    "msisdn",
    "tel",
    "telephone",
    "number",
    "e164",
];

/// Parses `bytes` as CSV. A first row with a recognised phone header selects that column; a
/// first row of one field is data (or the `phone` header); several columns without a phone
/// header are a 400, since guessing the column would import the wrong numbers.
pub fn parse_csv(bytes: &[u8]) -> Result<Parsed, Problem> {
    let text = std::str::from_utf8(bytes)
        .map_err(|e| Problem::bad_request("invalid_csv", format!("the CSV is not UTF-8: {e}")))?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    // Where each line ends: the row limit before reading, and every row's line number after.
    let newlines: Vec<usize> = text.match_indices('\n').map(|(at, _)| at).collect();
    too_many(newlines.len() + usize::from(!text.is_empty() && !text.ends_with('\n')))?;
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let mut parsed = Parsed::default();
    let mut column = None;
    for (index, record) in reader.records().enumerate() {
        let record = record.map_err(|e| {
            Problem::bad_request("invalid_csv", format!("the CSV cannot be read: {e}"))
        })?;
        // From the byte offset, past the blank lines a record's position includes: the
        // reader's own line count does not count them.
        let line = record.position().map_or(index + 1, |p| {
            let mut byte = usize::try_from(p.byte()).unwrap_or(usize::MAX);
            while matches!(text.as_bytes().get(byte), Some(b'\n' | b'\r')) {
                byte += 1;
            }
            newlines.partition_point(|&at| at < byte) + 1
        });
        let phone_column = match column {
            Some(c) => c,
            None => {
                let (c, is_header) = first_row(&record)?;
                column = Some(c);
                if is_header {
                    continue;
                }
                c
            }
        };
        match record.get(phone_column) {
            Some("") if record.iter().all(str::is_empty) => {}
            Some(value) => parsed.push(line, value),
            None => parsed.invalid.push(InvalidRow {
                line,
                value: record.iter().collect::<Vec<_>>().join(","),
                reason: format!("the row has no column {}", phone_column + 1),
            }),
        }
    }
    Ok(parsed)
}

/// The phone column and whether the first row is a header naming it.
fn first_row(record: &csv::StringRecord) -> Result<(usize, bool), Problem> {
    let names: Vec<String> = record.iter().map(normalise).collect();
    let header = PHONE_HEADERS
        .iter()
        .find_map(|wanted| names.iter().position(|name| name == wanted));
    match header {
        Some(column) => Ok((column, true)),
        None if record.len() <= 1 => Ok((0, false)),
        None => Err(Problem::bad_request(
            "invalid_csv",
            format!(
                "the CSV has {} columns but no header row naming the phone column (one of: {}); \
                 found `{}`",
                record.len(),
                PHONE_HEADERS.join(", "),
                record.iter().collect::<Vec<_>>().join(",")
            ),
        )),
    }
}

/// `Phone Number`, `phone_number` and `PHONE-NUMBER` all read `phonenumber`.
fn normalise(name: &str) -> String {
    name.chars()
        .filter(|c| !matches!(c, ' ' | '_' | '-' | '.'))
        .flat_map(char::to_lowercase)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(p: &Parsed) -> Vec<usize> {
        p.invalid.iter().map(|r| r.line).collect()
    }

    #[test]
    fn one_column_lines_are_one_based_and_skip_header_and_blanks() {
        let p = parse_csv(b"phone\n+14155550100\n\nnope\n\"+1 415 555 0101\"\n").expect("parses");
        assert_eq!(p.phones.len(), 2);
        assert_eq!(lines(&p), vec![4]);
    }

    #[test]
    fn a_headerless_single_column_starts_with_data() {
        let p = parse_csv(b"+14155550100\r\n+14155550101\r\n").expect("parses");
        assert_eq!(p.phones.len(), 2);
    }

    #[test]
    fn another_platforms_export_is_read_by_its_phone_column() {
        let csv = "First Name,Last Name,Mobile Number,Email,Tags\n\
                   Ada,Lovelace,+1 415 555 0100,ada@example.com,\"vip, early\"\n\
                   \"Smith, Jr\",Bob,+14155550101,,\n\
                   Eve,Short\n\
                   Mal,Formed,call me,,\n";
        let p = parse_csv(csv.as_bytes()).expect("parses");
        let phones: Vec<&str> = p.phones.iter().map(|p| p.as_str()).collect();
        assert_eq!(phones, vec!["+14155550100", "+14155550101"]);
        assert_eq!(lines(&p), vec![4, 5]);
        assert!(
            p.invalid[0].reason.contains("no column 3"),
            "{:?}",
            p.invalid[0]
        );
        assert_eq!(p.invalid[1].value, "call me");
    }

    #[test]
    fn phone_beats_number_when_both_are_columns() {
        let p = parse_csv(b"id,number,phone\n7,12,+14155550100\n").expect("parses");
        assert_eq!(p.phones.len(), 1);
        assert!(p.invalid.is_empty());
    }

    #[test]
    fn several_columns_without_a_phone_header_are_refused() {
        let e = parse_csv(b"name,email\nAda,ada@example.com\n").expect_err("no phone column");
        let detail = format!("{e:?}");
        assert!(
            detail.contains("no header row naming the phone column"),
            "{detail}"
        );
    }

    #[test]
    fn an_unterminated_quote_is_still_a_row_not_a_panic() {
        let p = parse_csv(b"phone\n\"+14155550100\n").expect("parses");
        assert_eq!(p.phones.len() + p.invalid.len(), 1);
    }
}
