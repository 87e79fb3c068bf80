//! A lab session on a cluster: running steps and watching them (`step`), what `up` reads
//! before it plans (`facts`), and the state kept between runs (`state`).

pub(crate) mod decide;
pub(crate) mod facts;
pub(crate) mod lock;
pub(crate) mod namespace;
pub(crate) mod room;
pub(crate) mod state;
pub(crate) mod step;
pub(crate) mod target;
pub(crate) mod watch;
pub mod workspace;
