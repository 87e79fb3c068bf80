//! `class board`: the class board as a web page for the projector — the page (pure) and
//! the small read-only server that serves it from the latest read of the cluster.

pub(crate) mod head;
pub(crate) mod page;
pub(crate) mod server;
