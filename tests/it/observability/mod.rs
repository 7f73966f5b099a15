//! The SRE's view is true: every metric a dashboard or an alert uses is exported by a running
//! engine, the alert rules are well formed, and the dashboards load.

mod alerts;
mod dashboards;
mod exported;
mod queries;
