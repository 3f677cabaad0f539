//! End-to-end tests of the `heat-controller` process against a real Mosquitto.
//!
//! Each test starts its own broker (test-mosquitto) with a password file and the deployment's
//! ACL (the controller user `ctl` may use `solar_heating/#`, write only its own discovery
//! configs `homeassistant/+/solar_heating/#` and read `homeassistant/status`; the test user
//! `tester` may do anything), then the controller binary
//! with a cleared environment, settings from variables and a TOML file in a temp dir, on the
//! simulated plant at a high time scale. The test client is test-mqtt's `Watcher` (as `tester`),
//! which records every message. Nothing asserts wall-clock limits tighter than generous
//! deadlines.

// Tests print the figures they measure (shutdown time, attempts, jitter, memory) for the test log.
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod at_once;
mod disinfection;
mod faults;
mod generate;
mod gpio;
mod harness;
mod holiday;
mod journal;
mod load;
mod persist;
mod reload;
mod resilience;
mod run;
mod startup;
mod takeover;
mod version;
mod watchdog;
