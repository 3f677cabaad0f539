//! Tests of deploy (filled in below).
