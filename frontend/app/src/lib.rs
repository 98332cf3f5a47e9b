//! The photo app's single-page app. Pure logic (configuration, API and Cognito requests,
//! routes, user-facing messages) compiles and is tested on the host; the browser UI in
//! [`web`] compiles only for wasm.

pub mod api;
pub mod cognito;
pub mod config;
pub mod messages;
pub mod route;
pub mod timeline;

#[cfg(target_arch = "wasm32")]
mod web;
