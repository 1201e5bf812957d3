//! End-to-end tests: whole scrm processes started in this test binary, on real databases,
//! driven through their public surfaces (gRPC, grpc-web, REST).

mod harness;

mod caller;
mod contracts;
mod gateway;
mod modes;
mod search;
mod sync;
mod wecom_callback;
