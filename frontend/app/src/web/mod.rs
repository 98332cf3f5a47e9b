//! The browser side: start-up, the router and the page chrome. Pages live in [`pages`].

mod dom;
mod net;
mod pages;
mod renew;
mod session;

use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::wasm_bindgen;
use web_sys::{Element, Event, MouseEvent};

use self::dom::{button, document, el, link, window};
use crate::config::RuntimeConfig;
use crate::route::Route;

/// Entry point, run by the boot module once the wasm is instantiated.
#[wasm_bindgen(start)]
pub fn start() {
    // With `panic = "abort"` a panic would leave whatever was on screen; say so instead. The
    // panic message is not shown or logged: it could quote user data.
    std::panic::set_hook(Box::new(|_| {
        fatal("Something went wrong and the app stopped. Reload the page to continue.")
    }));
    wasm_bindgen_futures::spawn_local(async {
        let config = match load_config().await {
            Ok(config) => config,
            Err(message) => {
                fatal(&message);
                return;
            }
        };
        session::set_config(config);
        session::refresh().await;
        install_global_listeners();
        render();
    });
}

async fn load_config() -> Result<RuntimeConfig, String> {
    let (status, text) = net::fetch("GET", "/config.json", &[], None)
        .await
        .map_err(|_| {
            "Could not load the app configuration; check your connection and reload.".to_owned()
        })?;
    if status != 200 {
        return Err(format!(
            "Could not load the app configuration (HTTP {status})."
        ));
    }
    RuntimeConfig::parse(&text).map_err(|e| format!("The app configuration is broken: {e}."))
}

fn root() -> Element {
    document()
        .get_element_by_id("app")
        .expect("index.html has #app")
}

/// Shows an error in place of the app: never a blank page.
fn fatal(message: &str) {
    let root = root();
    root.set_text_content(None);
    let _ = root.append_child(&el("p").class("error").attr("role", "alert").text(message).0);
}

/// Routes in-app link clicks without a reload, and follows the back and forward buttons.
/// These two listeners live for the whole session, so they are deliberately leaked.
fn install_global_listeners() {
    let click = wasm_bindgen::closure::Closure::<dyn FnMut(MouseEvent)>::new(|e: MouseEvent| {
        if e.default_prevented()
            || e.button() != 0
            || e.ctrl_key()
            || e.meta_key()
            || e.shift_key()
            || e.alt_key()
        {
            return;
        }
        let Some(a) = e
            .target()
            .and_then(|t| t.dyn_into::<Element>().ok())
            .and_then(|t| t.closest("a[data-link]").ok().flatten())
        else {
            return;
        };
        if let Some(href) = a.get_attribute("href") {
            e.prevent_default();
            go(&href);
        }
    });
    let _ = document().add_event_listener_with_callback("click", click.as_ref().unchecked_ref());
    click.forget();
    // Files dropped anywhere on the page of a signed-in user are uploaded. Entering and leaving
    // are counted: every element crossed fires both, and the hint stays while any is entered.
    let entered = std::rc::Rc::new(std::cell::Cell::new(0i32));
    for ty in ["dragenter", "dragover", "dragleave", "drop"] {
        let entered = entered.clone();
        let drag = wasm_bindgen::closure::Closure::<dyn FnMut(Event)>::new(move |e: Event| {
            let Some(transfer) = e
                .dyn_ref::<web_sys::DragEvent>()
                .and_then(|d| d.data_transfer())
            else {
                return;
            };
            let carries_files = transfer.types().includes(&"Files".into(), 0);
            if !session::signed_in() || !carries_files {
                return;
            }
            e.prevent_default();
            let n = match ty {
                "dragenter" => entered.get() + 1,
                "dragleave" => (entered.get() - 1).max(0),
                "drop" => 0,
                _ => entered.get().max(1),
            };
            entered.set(n);
            if let Some(body) = document().body() {
                let _ = body.class_list().toggle_with_force("dragging", n > 0);
            }
            if ty == "drop" {
                pages::dropped(pages::files_of(transfer.files()));
            }
        });
        let _ = document().add_event_listener_with_callback(ty, drag.as_ref().unchecked_ref());
        drag.forget();
    }
    let pop = wasm_bindgen::closure::Closure::<dyn FnMut(Event)>::new(|_: Event| render());
    let _ = window().add_event_listener_with_callback("popstate", pop.as_ref().unchecked_ref());
    pop.forget();
}

/// Names the page in the window's title once its name is known (an album's, a photo's).
pub fn set_title(what: &str) {
    document().set_title(&crate::route::titled(what));
}

/// Navigates to an in-app URL (path plus optional query).
pub fn go(href: &str) {
    if let Ok(history) = window().history() {
        let _ = history.push_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(href));
    }
    render();
}

/// Replaces the current history entry (for redirects such as signed-out to sign-in).
fn redirect(href: &str) {
    if let Ok(history) = window().history() {
        let _ = history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(href));
    }
    render();
}

/// The value of a query parameter of the current location.
pub fn query_param(name: &str) -> Option<String> {
    let search = window().location().search().ok()?;
    let url = web_sys::Url::new(&format!("http://x/{search}")).ok()?;
    url.search_params().get(name)
}

thread_local! {
    /// The page on screen (never a photo: a photo's lightbox opens over its page).
    static PAGE: std::cell::RefCell<Option<Route>> = const { std::cell::RefCell::new(None) };
}

/// Renders the page for the current location. A photo opens in the lightbox over its page;
/// when that page is already on screen (the user came from it, or is going back to it), the
/// page is left as it is, scrolled where it was, and only the lightbox opens or closes.
pub fn render() {
    let path = window().location().pathname().unwrap_or_default();
    let route = Route::parse(&path);
    if route.needs_session() && !session::signed_in() {
        redirect(&Route::SignIn.path());
        return;
    }
    if matches!(route, Route::SignIn | Route::SignUp) && session::signed_in() {
        redirect(&Route::Gallery.path());
        return;
    }
    let page = route.page();
    let on_screen = PAGE.with(|p| p.borrow().as_ref() == Some(&page))
        && document().get_element_by_id("main").is_some();
    if !on_screen {
        dom::clear_scope();
        let main = el("main").attr("id", "main");
        let root = root();
        root.set_text_content(None);
        let _ = root.append_child(&header(&page).0);
        let _ = root.append_child(&main.0);
        // Uploads go on across pages, and so does their tray.
        if let Some(tray) = pages::tray() {
            let _ = root.append_child(&tray);
        }
        PAGE.with(|p| *p.borrow_mut() = Some(page.clone()));
        pages::render(&route, &main.element());
        // After the page (which closes a lightbox left open, and gives back its title).
        document().set_title(&page.title());
    }
    pages::overlay(&route, on_screen);
}

fn header(route: &Route) -> dom::El {
    let nav = el("nav").attr("aria-label", "Main");
    let nav = if session::signed_in() {
        let current = |r: Route, label: &str| {
            let a = link(&r.path(), label);
            if *route == r {
                a.attr("aria-current", "page")
            } else {
                a
            }
        };
        nav.child(current(Route::Gallery, "Photos"))
            .child(current(Route::Albums, "Albums"))
            .child(current(Route::Shares, "Shared links"))
    } else {
        nav.child(link(&Route::SignIn.path(), "Sign in"))
            .child(link(&Route::SignUp.path(), "Create account"))
    };
    let header = el("header")
        .child(link(&Route::Gallery.path(), "Photos").class("brand"))
        .child(nav)
        .child(el("span").class("spacer"));
    if session::signed_in() {
        header.child(button("Sign out").class("secondary").on("click", |_| {
            // The uploads waiting are this user's: none may go on into the next one's account.
            pages::forget_uploads();
            wasm_bindgen_futures::spawn_local(async {
                session::sign_out().await;
                go(&Route::SignIn.path());
            });
        }))
    } else {
        header
    }
}
