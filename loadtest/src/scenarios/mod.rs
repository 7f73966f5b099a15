//! One file per scenario; each returns a [`crate::report::Report`].

pub mod broadcast;
pub mod drain;
pub mod mixed;
pub mod spike;
