//! `heat-diag`: checks settings, connects to the broker and audits it.

fn main() {}
