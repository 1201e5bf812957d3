//! End-to-end tests: whole scrm processes started in this test binary, on real databases,
//! driven through their public surfaces (gRPC, grpc-web, REST).

mod harness;

mod auth;
mod broadcast;
mod caller;
mod campaigns;
mod contracts;
mod corp_settings;
mod coupon_quick_replies;
mod customer_profile;
mod customer_roles;
mod demo;
mod gateway;
mod group_ranking;
mod groups;
mod inbox;
mod modes;
mod org;
mod quick_replies;
mod roles;
mod search;
mod sidebar;
mod sync;
mod tags;
mod wecom_callback;
mod welcome;
