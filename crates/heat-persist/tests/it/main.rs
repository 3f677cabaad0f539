//! Integration tests of heat-persist: SIGKILL at random moments of a writer, and the purity of
//! everything but the IO module.

mod kill;
mod purity;
