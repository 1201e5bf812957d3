//! End-to-end tests of scrm live in `e2e/`; this library is empty.
