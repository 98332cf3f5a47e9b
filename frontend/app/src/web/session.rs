//! The runtime configuration and the signed-in session.
//!
//! Token storage: the access and id tokens live in memory only (this module's thread-local),
//! so they vanish with the tab. The refresh token is kept in `localStorage` so a reload or a
//! new tab stays signed in without asking for the password again. That exposes it to any
//! script running on our origin; the trade-off is acceptable for a SPA without a
//! backend-for-frontend because the site's CSP (`script-src 'self' 'wasm-unsafe-eval'`)
//! forbids inline and third-party script, which is how XSS usually gets to run, and because
//! sign-out calls `GlobalSignOut`, which revokes it. No token is ever logged: the `Tokens`
//! type's `Debug` hides them and this app writes nothing to the console.

use std::cell::RefCell;

use super::dom::window;
use super::net;
use crate::cognito::{self, AuthOutcome, Tokens};
use crate::config::RuntimeConfig;

const REFRESH_KEY: &str = "photos.refreshToken";

#[derive(Default)]
struct State {
    config: Option<RuntimeConfig>,
    access_token: Option<String>,
}

thread_local! {
    static STATE: RefCell<State> = RefCell::new(State::default());
}

pub fn set_config(config: RuntimeConfig) {
    STATE.with(|s| s.borrow_mut().config = Some(config));
}

/// The configuration; only called after start-up has loaded it.
pub fn config() -> RuntimeConfig {
    STATE
        .with(|s| s.borrow().config.clone())
        .expect("config loaded before any request")
}

pub fn access_token() -> Option<String> {
    STATE.with(|s| s.borrow().access_token.clone())
}

pub fn signed_in() -> bool {
    access_token().is_some()
}

fn storage() -> Option<web_sys::Storage> {
    window().local_storage().ok().flatten()
}

fn stored_refresh_token() -> Option<String> {
    storage().and_then(|s| s.get_item(REFRESH_KEY).ok().flatten())
}

/// Takes the tokens of a sign-in or refresh into the session.
pub fn accept(tokens: Tokens) {
    if let (Some(refresh), Some(storage)) = (&tokens.refresh_token, storage()) {
        let _ = storage.set_item(REFRESH_KEY, refresh);
    }
    STATE.with(|s| s.borrow_mut().access_token = Some(tokens.access_token));
}

/// Forgets the session locally.
pub fn forget() {
    if let Some(storage) = storage() {
        let _ = storage.remove_item(REFRESH_KEY);
    }
    STATE.with(|s| s.borrow_mut().access_token = None);
}

/// Exchanges the stored refresh token for new tokens; false (and signed out) when it is gone
/// or no longer valid.
pub async fn refresh() -> bool {
    let Some(refresh_token) = stored_refresh_token() else {
        return false;
    };
    let client_id = config().user_pool_client_id;
    match net::cognito(cognito::refresh(&client_id, &refresh_token)).await {
        Ok(body) => match cognito::parse_auth(&body) {
            Ok(AuthOutcome::Tokens(tokens)) => {
                accept(tokens);
                true
            }
            _ => {
                forget();
                false
            }
        },
        Err(e) => {
            // A network failure keeps the refresh token for the next try; a refusal ends the session.
            if e.is_session_over() {
                forget();
            }
            false
        }
    }
}

/// Signs out everywhere (revoking the refresh token) and locally.
pub async fn sign_out() {
    if let Some(token) = access_token() {
        let _ = net::cognito(cognito::global_sign_out(&token)).await;
    }
    forget();
}
