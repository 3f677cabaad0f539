//! Loop tests.
