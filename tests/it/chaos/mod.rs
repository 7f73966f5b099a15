//! Chaos: the engine killed with SIGKILL mid-broadcast, and RabbitMQ stopped mid-broadcast.
//! The guarantees checked are DESIGN.md's "Guarantees, stated so they can be tested".

mod broker_restart;
mod kill9;
