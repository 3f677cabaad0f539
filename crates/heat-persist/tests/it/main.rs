//! Integration tests of heat-persist: SIGKILL at random moments of a writer, and the purity of
//! everything but the IO module.

// The kill test prints its seed and what it measured, for the test log.
#![allow(clippy::print_stdout)]

mod kill;
mod purity;
