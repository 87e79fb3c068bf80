//! Classroom bundles: everything the lab needs, prepared once on a machine with internet
//! and carried to VMs without it — on a USB stick or from a static HTTP server.

pub(crate) mod create;
pub(crate) mod file;
pub(crate) mod images;
pub(crate) mod load;
pub mod manifest;
mod open;
pub(crate) mod source;
pub(crate) mod trust;

pub use open::{allowed, cache, open, this_platform};
