//! A complete Floodgate on loopback — simulated carrier, engine, community, members —
//! for the demo, the integration tests and the load tests.

mod world;

pub use world::{ACCOUNT_SID, AUTH_TOKEN, COMMUNITY_NUMBER, Sandbox, SandboxConfig};
