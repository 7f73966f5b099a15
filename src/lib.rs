//! Floodgate: an SMS broadcast delivery engine.
//!
//! Members text a leader's number; carriers post those texts here as webhooks;
//! leaders broadcast to their members through the HTTP API; Floodgate fans each
//! broadcast out and delivers it through the carriers' APIs without exceeding
//! their rate limits, without losing work, and without texting anyone who said STOP.
//!
//! # Layout
//! - [`api`]: the leader API under `/v1`: keys, broadcasts, members, inbox, OpenAPI.
//! - [`app`]: building the application from settings and running it until stopped.
//! - [`config`]: typed, layered configuration and carrier profiles.
//! - [`domain`]: phone numbers, message bodies, keywords, statuses — valid by construction.
//! - [`store`]: persistence on SQLite or PostgreSQL behind one API.
//! - [`bus`]: the work queues between stages, on RabbitMQ or in the store.
//! - [`events`]: protobuf events and their envelope.
//! - [`carriers`]: one adapter per carrier (signatures, webhook parsing, sending).
//! - [`pipeline`]: the staged, back-pressured pipeline (Broadway-style).
//! - [`webhooks`]: the carrier-facing edge: verify, make durable, answer.
//! - [`sandbox`]: a complete Floodgate on loopback against the carrier simulator.
//! - [`http`]: the axum server: health, readiness, metrics, errors and 404/405 fallbacks, shutdown.
//! - [`telemetry`]: logging setup, error reports, and every metric name in one place.
//! - [`commands`]: what the `floodgate` binary's subcommands do.

pub mod api;
pub mod app;
pub mod bus;
pub mod carriers;
pub mod commands;
pub mod config;
pub mod domain;
pub mod events;
pub mod http;
pub mod pipeline;
pub mod sandbox;
pub mod store;
pub mod telemetry;
pub mod webhooks;
