//! A lab session on a cluster: running steps and watching them (`step`), what `up` reads
//! before it plans (`facts`), and the state kept between runs (`state`).

pub mod decide;
pub mod facts;
pub mod lock;
pub mod namespace;
pub mod room;
pub mod state;
pub mod step;
pub mod target;
pub mod watch;
pub mod workspace;
