//! The integration suite: one binary, real services (PostgreSQL, RabbitMQ, HTTP on loopback).
//!
//! Start the services with `scripts/test`; a test that needs one and finds none fails
//! and says so.

mod store;
mod support;

mod adapters;
mod api;
mod bus;
mod chaos;
mod limits;
mod observability;
mod pipeline;
mod rabbitmq_bus;
mod rabbitmq_smoke;
mod serve;
mod webhooks;
