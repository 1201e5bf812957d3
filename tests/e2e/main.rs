//! End-to-end tests: whole scrm processes started in this test binary, on real databases,
//! driven through their public surfaces (gRPC, grpc-web, REST).

mod harness;

mod caller;
mod contracts;
mod customer_profile;
mod demo;
mod gateway;
mod modes;
mod quick_replies;
mod sidebar;
mod sync;
mod wecom_callback;
