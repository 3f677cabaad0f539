//! Integration tests: the simulated plant driven through the public traits like a controller.

mod day;
