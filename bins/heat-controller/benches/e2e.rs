//! End-to-end benchmark (placeholder).

fn main() {}
