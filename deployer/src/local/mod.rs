//! The local stage: the whole app in one process on 127.0.0.1, with its state in a data directory.

pub mod datadir;
pub mod queue;
pub mod store;
pub mod users;
