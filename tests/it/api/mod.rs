//! The leader API, over HTTP on loopback, on both store backends.

mod auth;
mod broadcasts;
mod cli;
mod members;
mod openapi;
mod scoping;
