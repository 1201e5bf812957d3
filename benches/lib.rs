//! Benchmarks of scrm live in `benches/`; this library is empty.
