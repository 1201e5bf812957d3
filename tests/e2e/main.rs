//! End-to-end tests: whole scrm processes started in this test binary, on real databases,
//! driven through their public surfaces (gRPC, grpc-web, REST).

mod harness;

mod auth;
mod caller;
mod contracts;
mod demo;
mod gateway;
mod modes;
mod sync;
mod wecom_callback;
