//! One integration-test binary: every test starts its own simulator on a loopback port
//! and talks to it over real HTTP.

mod callbacks;
mod control;
mod helpers;
mod limits;
mod send;
