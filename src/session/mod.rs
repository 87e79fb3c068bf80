//! A lab session on a cluster: running steps and watching them (`step`), bringing the
//! cluster up (`up`), and the state kept between runs (`state`).

pub mod decide;
pub mod facts;
pub mod lock;
pub mod namespace;
pub mod room;
pub mod state;
pub mod step;
pub mod target;
pub mod up;
pub mod watch;
pub mod workspace;
