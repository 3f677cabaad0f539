//! Tests of the `[hardware]` validation.
