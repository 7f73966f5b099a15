//! Answers for requests no route takes, in the same problem+json shape as every other error.

use axum::http::{Method, StatusCode, Uri};

use super::Problem;

/// 404 for a path no route serves, so clients can branch on `code` here too.
pub async fn not_found(uri: Uri) -> Problem {
    Problem::new(
        StatusCode::NOT_FOUND,
        "not_found",
        format!("no route serves {}", uri.path()),
    )
}

/// 405 for a known path asked with the wrong method; axum adds the `Allow` header.
pub async fn method_not_allowed(method: Method, uri: Uri) -> Problem {
    Problem::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        format!("{} does not accept {method}", uri.path()),
    )
}
