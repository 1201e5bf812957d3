//! Shared kernel of scrm: the error-code table, the caller context, and the RPC plumbing that
//! lets services call each other in-process or over the network.

pub mod calendar;
pub mod caller;
pub mod error;
pub mod paging;
pub mod permissions;
pub mod rpc;
pub mod services;
pub mod trace_context;

pub use caller::{Caller, Role, StoreScope};
pub use error::{ApiError, ErrorCode};
pub use services::{Clients, ServiceKind};
