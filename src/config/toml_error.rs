//! TOML syntax errors as a line and column a person can find in their editor.

/// "not valid TOML at line L, column C: what is wrong" for an error parsing `text`.
pub(super) fn describe(text: &str, error: &toml::de::Error) -> String {
    match error.span() {
        Some(span) => {
            let (line, column) = line_and_column(text, span.start);
            format!(
                "not valid TOML at line {line}, column {column}: {}",
                error.message()
            )
        }
        None => format!("not valid TOML: {}", error.message()),
    }
}

/// 1-based line and column (in characters) of byte `offset` in `text`.
fn line_and_column(text: &str, offset: usize) -> (usize, usize) {
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_the_line_and_column_of_the_mistake() {
        let text = "listen = \"127.0.0.1:1\"\n\nthis is not toml\n";
        let error = text.parse::<toml::Table>().unwrap_err();
        let message = describe(text, &error);
        assert!(
            message.starts_with("not valid TOML at line 3, column 6"),
            "{message}"
        );
    }

    #[test]
    fn columns_count_characters_not_bytes() {
        assert_eq!(line_and_column("é = 1\nab", 8), (2, 2));
        assert_eq!(line_and_column("", 5), (1, 1));
    }
}
