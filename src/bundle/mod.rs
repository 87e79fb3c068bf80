//! Classroom bundles: everything the lab needs, prepared once on a machine with internet
//! and carried to VMs without it — on a USB stick or from a static HTTP server.

pub mod create;
pub mod file;
pub mod load;
pub mod manifest;
mod open;
pub mod source;
pub mod trust;

pub use open::{allowed, cache, open, this_platform};
