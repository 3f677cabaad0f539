//! Unit tests of parameter validation.
