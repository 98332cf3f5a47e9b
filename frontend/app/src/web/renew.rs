//! Media links that renew themselves, so a gallery or a shared album left open for a day keeps
//! working without a reload.
//!
//! The API signs media links for fixed time windows, each valid for a lifetime after its window
//! ends: at least 12 hours for an owner's, under an hour for a share's (so a revoked share's
//! links die within the hour; the edge cannot revoke a signed URL). A page left open longer
//! holds links the edge refuses. Two things renew them:
//!
//! - An image that fails to load makes its page ask the API again; the fresh links replace
//!   those of every image that has not loaded yet, the failed one included. An image that fails
//!   again with a fresh link is broken, not expired, and is left alone, and renewals are at
//!   least [`COOLDOWN_MS`] apart, so a broken image cannot make the page ask in a loop.
//! - A download (which the page cannot watch fail) asks for a fresh link first when its own was
//!   issued more than [`STALE_MS`] ago, less than the shortest lifetime a link has.

use std::cell::Cell;
use std::future::Future;
use std::rc::Rc;

use wasm_bindgen::JsCast;
use wasm_bindgen_futures::spawn_local;
use web_sys::{Element, Event, HtmlElement, HtmlImageElement};

use super::dom::{El, el, listen_capture};

/// The attribute naming the photo an image shows, by which a renewal finds it.
const PHOTO_ATTR: &str = "data-photo";
/// When a renewal last gave an image a fresh link (ms since the epoch).
const RENEWED_ATTR: &str = "data-renewed";
/// The least time between two renewals of one page.
const COOLDOWN_MS: u64 = 30_000;
/// A download link older than this is renewed before it is followed. Every link is valid for
/// at least 50 minutes after it is issued.
const STALE_MS: u64 = 10 * 60_000;

/// Milliseconds since the epoch, whole (formatting and parsing floats would add their code to
/// the wasm).
fn now() -> u64 {
    js_sys::Date::now() as u64
}

/// An image of photo `id`, which a renewal on its page can find and give a fresh link.
pub fn image(url: &str, id: &str, alt: &str) -> El {
    of_photo(el("img"), url, id, alt)
}

/// [`image`] loaded only as it nears the screen: `loading` is set before `src`, or the browser
/// starts fetching at once.
pub fn lazy_image(url: &str, id: &str, alt: &str) -> El {
    of_photo(el("img").attr("loading", "lazy"), url, id, alt)
}

fn of_photo(img: El, url: &str, id: &str, alt: &str) -> El {
    img.attr("src", url).attr(PHOTO_ATTR, id).attr("alt", alt)
}

/// Calls `renew` when an image under `container` fails to load: it should ask the API for the
/// page's links again and hand each to [`swap`]. Renewals do not overlap, are at least
/// [`COOLDOWN_MS`] apart, and an image that failed with a link a renewal just gave it does not
/// start another.
pub fn on_failed_image<F, Fut>(container: &Element, renew: F)
where
    F: Fn() -> Fut + 'static,
    Fut: Future<Output = ()> + 'static,
{
    let running = Rc::new(Cell::new(false));
    let last = Rc::new(Cell::new(None::<u64>));
    let renew = Rc::new(renew);
    listen_capture(container, "error", move |e: Event| {
        let Some(img) = e
            .target()
            .and_then(|t| t.dyn_into::<HtmlImageElement>().ok())
        else {
            return;
        };
        let renewed = img
            .get_attribute(RENEWED_ATTR)
            .and_then(|t| t.parse::<u64>().ok());
        let t = now();
        let recent = |at: Option<u64>| at.is_some_and(|at| t.saturating_sub(at) < COOLDOWN_MS);
        if recent(renewed) || running.get() || recent(last.get()) {
            return;
        }
        running.set(true);
        let (running, last, renew) = (running.clone(), last.clone(), renew.clone());
        spawn_local(async move {
            renew().await;
            last.set(Some(now()));
            running.set(false);
        });
    });
}

/// Gives every image of photo `id` under `container` that has not loaded (or failed) the fresh
/// link `url`; loaded images keep theirs, which the browser has cached.
pub fn swap(container: &Element, id: &str, url: &str) {
    // Photo ids are ULIDs: nothing in them needs escaping in a selector.
    let Ok(found) = container.query_selector_all(&format!("img[{PHOTO_ATTR}=\"{id}\"]")) else {
        return;
    };
    for i in 0..found.length() {
        let Some(img) = found
            .get(i)
            .and_then(|n| n.dyn_into::<HtmlImageElement>().ok())
        else {
            continue;
        };
        let loaded = img.complete() && img.natural_width() > 0;
        if !loaded && img.get_attribute("src").as_deref() != Some(url) {
            let _ = img.set_attribute(RENEWED_ATTR, &now().to_string());
            img.set_src(url);
        }
    }
}

/// A link that downloads a photo's original as `file_name`. When its link was issued more
/// than [`STALE_MS`] ago, a click first asks `fresh` for a new one (`None`: the photo is gone,
/// or the API cannot be reached, and the old link is tried).
pub fn download<F, Fut>(url: &str, file_name: &str, text: &str, fresh: F) -> El
where
    F: Fn() -> Fut + 'static,
    Fut: Future<Output = Option<String>> + 'static,
{
    let a = el("a")
        .attr("href", url)
        .attr("download", file_name)
        .text(text);
    let issued = Rc::new(Cell::new(now()));
    let fresh = Rc::new(fresh);
    let anchor: HtmlElement = a.html();
    a.on("click", move |e: Event| {
        if now().saturating_sub(issued.get()) < STALE_MS {
            return;
        }
        e.prevent_default();
        let (issued, fresh, anchor) = (issued.clone(), fresh.clone(), anchor.clone());
        spawn_local(async move {
            if let Some(url) = fresh().await {
                let _ = anchor.set_attribute("href", &url);
            }
            // Followed now: the next click within the window uses this link as it is.
            issued.set(now());
            anchor.click();
        });
    })
}
