//! The pages, one module a feature; here the router's entry point and what the pages share:
//! status lines, forms, and requests whose failure is said on the page.

mod albums;
mod auth;
mod gallery;
mod lightbox;
mod selection;
mod shared_page;
mod shares;
mod upload;
mod wall;

pub use upload::{dropped, files_of, forget as forget_uploads, tray};

use std::future::Future;

use serde::de::DeserializeOwned;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::spawn_local;
use web_sys::{Element, Event};

use super::dom::{self, El, el, link, say, window};
use super::net;
use crate::api::{ApiError, ApiRequest};
use crate::cognito::CognitoError;
use crate::messages;
use crate::route::Route;

/// How many albums or share links a list page asks for (the API's maximum page).
const LIST_LIMIT: u32 = 100;

/// Renders the page of `route` into `main` (for a photo, the page its lightbox opens over).
pub fn render(route: &Route, main: &Element) {
    lightbox::close();
    wall::forget();
    let page = match route.page() {
        Route::SignIn => auth::sign_in(),
        Route::SignUp => auth::sign_up(),
        Route::Confirm => auth::confirm(),
        Route::Reset => auth::reset(),
        // `page()` is never a photo: those open over the timeline or their album.
        Route::Gallery | Route::Photo(_) | Route::AlbumPhoto(..) | Route::SharedPhoto(..) => {
            gallery::gallery()
        }
        Route::Albums => albums::albums(),
        Route::Album(id) => albums::album(id),
        Route::Shares => shares::shares(),
        Route::PublicShare(token) => shared_page::public_share(token),
        Route::NotFound(_) => el("section")
            .child(el("h1").text("Page not found"))
            .child(link("/", "Go to your photos")),
    };
    let _ = main.append_child(&page.0);
    // Move focus to the new page's heading so keyboard and screen-reader users follow along.
    if let Ok(Some(h)) = main.query_selector("h1") {
        let _ = h.set_attribute("tabindex", "-1");
        let _ = h.unchecked_into::<web_sys::HtmlElement>().focus();
    }
}

/// Shows the lightbox when `route` names a photo (over the page already rendered), else closes
/// it. `from_page`: the user came from that page within the app, so leaving is going back.
pub fn overlay(route: &Route, from_page: bool) {
    if route.photo().is_some() {
        lightbox::show(route, from_page);
    } else {
        lightbox::close();
    }
}

/// Whether a modal dialog is open (it has the keyboard: Escape closes it, not what is under it).
fn dialog_open() -> bool {
    dom::document()
        .query_selector("dialog[open]")
        .ok()
        .flatten()
        .is_some()
}

fn status() -> El {
    el("p").attr("aria-live", "polite")
}

/// A form whose submit runs `f` instead of navigating.
fn form(f: impl Fn() + 'static) -> El {
    el("form").on("submit", move |e: Event| {
        e.prevent_default();
        f();
    })
}

/// A form on a card of its own under the page's heading (the account pages, a protected link).
fn card(heading: &str, f: impl Fn() + 'static) -> El {
    form(f).class("card").child(el("h1").text(heading))
}

/// A form's submit button.
fn submit(text: &str) -> El {
    el("button").attr("type", "submit").text(text)
}

fn value(input: &web_sys::HtmlInputElement) -> String {
    input.value().trim().to_owned()
}

/// Asks the user to confirm a step that cannot be undone.
fn confirmed(question: &str) -> bool {
    window().confirm_with_message(question).unwrap_or(false)
}

/// An error of the API or of Cognito, as the user reads it.
trait Failure {
    fn for_user(&self) -> String;
}

impl Failure for ApiError {
    fn for_user(&self) -> String {
        messages::api_error(self)
    }
}

impl Failure for CognitoError {
    fn for_user(&self) -> String {
        self.user_message()
    }
}

/// Says on a status line what went wrong.
fn failed(line: &Element, e: &impl Failure) {
    say(line, &e.for_user(), true);
}

/// Runs a call in the background: `done` gets its answer; a failure is said on `line`.
fn run<T: 'static, E: Failure + 'static>(
    line: &Element,
    call: impl Future<Output = Result<T, E>> + 'static,
    done: impl FnOnce(T) + 'static,
) {
    let line = line.clone();
    spawn_local(async move {
        match call.await {
            Ok(answer) => done(answer),
            Err(e) => failed(&line, &e),
        }
    });
}

/// Sends an API request and hands `done` its decoded answer; a failure is said on `line`.
fn send<T: DeserializeOwned + 'static>(
    line: &Element,
    request: ApiRequest,
    done: impl FnOnce(T) + 'static,
) {
    run(line, async move { net::api::<T>(&request).await }, done);
}

/// [`send`] for a request whose answer is not read.
fn send_text(line: &Element, request: ApiRequest, done: impl FnOnce() + 'static) {
    run(line, async move { net::api_text(&request).await }, |_| {
        done()
    });
}

/// A page section that says "Loading…" until something replaces what it holds (the element).
fn loading() -> (El, Element) {
    let section = el("section").child(el("p").class("loading").text("Loading…"));
    let target = section.element();
    (section, target)
}

/// What stands in place of a page that could not be loaded.
fn load_error(e: &ApiError) -> El {
    el("p")
        .class("error")
        .attr("role", "alert")
        .text(&messages::api_error(e))
}

/// A page loaded from one request: `body` makes it of the answer, or the error shows instead.
fn loaded<T: DeserializeOwned + 'static>(
    request: ApiRequest,
    body: impl FnOnce(T) -> El + 'static,
) -> El {
    let (section, target) = loading();
    spawn_local(async move {
        match net::api::<T>(&request).await {
            Ok(answer) => dom::replace_children(&target, &body(answer)),
            Err(e) => dom::replace_children(&target, &load_error(&e)),
        }
    });
    section
}
