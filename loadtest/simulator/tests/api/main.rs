//! One integration-test binary: every test starts its own simulator on a loopback port
//! and talks to it over real HTTP.

mod callbacks;
mod carrier_callbacks;
mod control;
mod faults;
mod helpers;
mod limits;
mod priority;
mod send;
mod telnyx;
mod vonage;
