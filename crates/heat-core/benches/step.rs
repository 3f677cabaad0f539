//! Benchmark of one control step (filled in below).
fn main() {}
