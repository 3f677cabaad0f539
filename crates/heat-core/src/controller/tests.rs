//! Unit tests of the controller internals.
