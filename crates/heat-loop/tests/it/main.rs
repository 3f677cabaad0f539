//! Integration tests of heat-loop: its purity.

mod purity;
