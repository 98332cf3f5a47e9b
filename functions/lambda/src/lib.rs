//! The photo app's Lambda functions: two binaries, `photo-api` and `photo-thumbnail`, each zipped
//! as `bootstrap` by the deployer (names in [`photo_contract::functions`]).
//!
//! The logic lives in plain libraries with no Lambda runtime and no SDK (`photo-api`'s router,
//! `photo-thumbnail`'s [`Thumbnailer`](photo_thumbnail::Thumbnailer)); this crate plugs them into
//! the runtimes and the AWS adapters of `photo-aws`. [`startup`] is what both `main`s share;
//! [`api`] and [`thumbnail`] are each function's wiring.

pub mod api;
pub mod startup;
pub mod thumbnail;
