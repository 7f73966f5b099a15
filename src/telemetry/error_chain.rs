//! One line for an error and its causes, each cause once.
//!
//! Many errors end their own message with their cause's and also return that cause from
//! `source()` (`std::io` wrappers, sqlx, lapin): walking the chain the way `{:#}` does would
//! print the same words two or three times. This walk skips a cause the line already ends with.

use std::error::Error;
use std::fmt;

/// Displays `error: cause: cause's cause`, leaving out causes the message already ends with.
pub struct ErrorChain<'a>(pub &'a (dyn Error + 'static));

impl fmt::Display for ErrorChain<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut line = self.0.to_string();
        let mut cause = self.0.source();
        while let Some(error) = cause {
            let text = error.to_string();
            if !text.is_empty() && !line.ends_with(&text) {
                line.push_str(": ");
                line.push_str(&text);
            }
            cause = error.source();
        }
        f.write_str(&line)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An error that, like many, says its cause in its own message and returns it as source.
    #[derive(Debug, thiserror::Error)]
    #[error("{what}: {cause}")]
    struct Repeats {
        what: &'static str,
        #[source]
        cause: Box<dyn Error + Send + Sync>,
    }

    /// An error that leaves its cause to `source()`.
    #[derive(Debug, thiserror::Error)]
    #[error("{what}")]
    struct Defers {
        what: &'static str,
        #[source]
        cause: Box<dyn Error + Send + Sync>,
    }

    fn in_use() -> Box<dyn Error + Send + Sync> {
        Box::new(std::io::Error::new(
            std::io::ErrorKind::AddrInUse,
            "Address already in use (os error 98)",
        ))
    }

    #[test]
    fn a_cause_already_in_the_message_is_not_repeated() {
        let e = Repeats {
            what: "cannot listen on 127.0.0.1:1",
            cause: in_use(),
        };
        assert_eq!(
            ErrorChain(&e).to_string(),
            "cannot listen on 127.0.0.1:1: Address already in use (os error 98)"
        );
        let nested = Repeats {
            what: "migration failed",
            cause: Box::new(Repeats {
                what: "while executing migrations",
                cause: in_use(),
            }),
        };
        let line = ErrorChain(&nested).to_string();
        assert_eq!(line.matches("Address already in use").count(), 1, "{line}");
        assert_eq!(line.matches("while executing").count(), 1, "{line}");
    }

    #[test]
    fn a_cause_left_to_source_is_printed_once() {
        let e = Defers {
            what: "starting floodgate",
            cause: Box::new(Defers {
                what: "serving",
                cause: in_use(),
            }),
        };
        assert_eq!(
            ErrorChain(&e).to_string(),
            "starting floodgate: serving: Address already in use (os error 98)"
        );
    }
}
