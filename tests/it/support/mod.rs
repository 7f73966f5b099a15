//! Shared test harness: fresh databases per test, service URLs, and loud failures when a service is missing.

#![allow(dead_code)]

mod services;

pub use services::{amqp_url, fresh_store, fresh_postgres_url, fresh_sqlite_url, postgres_admin_url, Backend, TestDb};
