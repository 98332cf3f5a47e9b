//! The contract between the photo app's template and the code that runs under it.
//!
//! Every name that the stack sets and a function, the local stage or the deployer reads is
//! defined here once: the HTTP API's routes ([`api`]), the functions' environment variables
//! ([`env`]), the photo bucket's key prefixes ([`keys`]), the functions themselves
//! ([`functions`]), the user pool's rules ([`users`]), and the stack's name, parameters and
//! outputs ([`stack`]). A name spelled as a string in two places is a route that works on the
//! local stage and answers 404 behind API Gateway; spelled once here, the two sides cannot drift.
//!
//! This crate has no dependencies and does no I/O.

pub mod api;
pub mod env;
pub mod functions;
pub mod keys;
pub mod stack;
pub mod users;
