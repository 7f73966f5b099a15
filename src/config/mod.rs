//! Typed, layered configuration: file < environment < flags, plus carrier profiles.

mod secret;

pub use secret::Secret;
