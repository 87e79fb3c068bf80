//! One module per command; each turns resolved arguments into text to show (or an
//! exit status), leaving printing to `app`.

pub mod check;
pub mod doctor;
pub mod install;
pub mod render;
pub mod session;
pub mod versions;
