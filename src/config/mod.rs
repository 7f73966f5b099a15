//! Typed, layered configuration: file < environment < flags, plus carrier profiles.
