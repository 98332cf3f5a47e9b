//! The photo grid of the gallery and album pages: tiles that wait for their photo to be
//! processed, more pages loaded on scroll, and the order browsed, for the viewer's previous
//! and next.

use std::cell::RefCell;
use std::rc::Rc;

use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;
use wasm_bindgen_futures::spawn_local;
use web_sys::{Element, IntersectionObserver, IntersectionObserverEntry};

use super::{failed, status};
use crate::api::{self, Cursor, Photo, PhotoPage, PhotoStatus};
use crate::messages;
use crate::route::Route;
use crate::web::dom::{self, El, button, el, link, say};
use crate::web::{net, renew};

thread_local! {
    /// Photo ids of the last gallery or album shown, in order: the viewer's previous and next.
    static BROWSED: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
}

/// The photos before and after `id` in the last gallery or album shown.
pub(super) fn neighbours(id: &str) -> (Option<String>, Option<String>) {
    BROWSED.with(|b| {
        let b = b.borrow();
        let i = b.iter().position(|x| x == id);
        let prev = i
            .and_then(|i| i.checked_sub(1))
            .and_then(|i| b.get(i).cloned());
        let next = i.and_then(|i| b.get(i + 1).cloned());
        (prev, next)
    })
}

/// A grid tile for a photo. A pending photo shows a placeholder and polls the API with
/// backoff until it is processed, then replaces itself with the thumbnail.
pub(super) fn tile(photo: &Photo) -> El {
    let a = link(&Route::Photo(photo.id.clone()).path(), "")
        .class("tile")
        .attr("aria-label", photo.display_name());
    let a = match (photo.status, &photo.thumbnail_url) {
        (PhotoStatus::Ready, Some(url)) => {
            a.child(renew::image(url, &photo.id, photo.display_name()).attr("loading", "lazy"))
        }
        (PhotoStatus::Failed, _) => a.child(
            el("span")
                .class("failed")
                .text("This photo could not be processed"),
        ),
        _ => {
            let a = a.child(el("span").class("pending").text("Processing…"));
            poll_until_ready(photo.id.clone(), a.element());
            a
        }
    };
    if photo.favourite {
        a.child(
            el("span")
                .class("fav")
                .attr("aria-label", "favourite")
                .text("★"),
        )
    } else {
        a
    }
}

fn poll_until_ready(id: String, tile_el: Element) {
    spawn_local(async move {
        for delay in messages::poll_delays() {
            net::sleep(delay).await;
            // Stop when the user has left the page that showed the tile.
            if !tile_el.is_connected() {
                return;
            }
            if let Ok(photo) = net::api::<Photo>(&api::get_photo(&id)).await
                && photo.status != PhotoStatus::Pending
            {
                let _ = tile_el.replace_with_with_node_1(&tile(&photo).0);
                return;
            }
        }
    });
}

/// The request for a listing's page after a cursor; `None` when there is none.
type PageRequest = dyn Fn(&Cursor) -> Option<api::ApiRequest>;

/// Asks for the first `pages` pages of a listing again and gives their photos' thumbnails the
/// fresh links (see [`renew`]).
async fn renew_thumbnails(grid: &Element, request: &PageRequest, pages: usize) {
    let mut cursor = Cursor::Start;
    for _ in 0..pages {
        let Some(req) = request(&cursor) else { return };
        let Ok(page) = net::api::<PhotoPage>(&req).await else {
            return;
        };
        for p in &page.photos {
            if let Some(url) = &p.thumbnail_url {
                renew::swap(grid, &p.id, url);
            }
        }
        cursor = Cursor::after(page.next_cursor.as_deref());
        if cursor.is_end() {
            return;
        }
    }
}

/// A paginated photo listing with "load more" on scroll (and a button, for keyboards). A
/// thumbnail whose link has expired gets a fresh one without a reload.
pub(super) fn photo_grid(
    request: impl Fn(&Cursor) -> Option<api::ApiRequest> + 'static,
    decorate: impl Fn(&Photo, El) -> El + 'static,
) -> (El, El) {
    let request: Rc<PageRequest> = Rc::new(request);
    // Pages shown so far: what a renewal asks for again.
    let pages = Rc::new(std::cell::Cell::new(0usize));
    let grid = el("div").class("grid");
    let more = button("Load more").class("secondary");
    let line = status();
    let sentinel = el("div").class("sentinel");
    let wrapper = el("section")
        .child(grid.clone())
        .child(line.clone())
        .child(more.clone())
        .child(sentinel.clone());
    BROWSED.with(|b| b.borrow_mut().clear());
    {
        let (grid_el, request, pages) = (grid.element(), request.clone(), pages.clone());
        renew::on_failed_image(&grid.element(), move || {
            let (grid, request, pages) = (grid_el.clone(), request.clone(), pages.get());
            async move { renew_thumbnails(&grid, &*request, pages).await }
        });
    }
    let state = Rc::new(RefCell::new((Cursor::Start, false)));
    let observer_slot: Rc<RefCell<Option<IntersectionObserver>>> = Rc::default();
    let load: Rc<dyn Fn()> = {
        let (grid, more, line) = (grid.element(), more.element(), line.element());
        let (slot, sentinel) = (observer_slot.clone(), sentinel.element());
        let decorate = Rc::new(decorate);
        let pages = pages.clone();
        Rc::new(move || {
            let Some(req) = ({
                let s = state.borrow();
                if s.1 { None } else { request(&s.0) }
            }) else {
                return;
            };
            state.borrow_mut().1 = true;
            let (state, grid, more, line, decorate, slot, sentinel, pages) = (
                state.clone(),
                grid.clone(),
                more.clone(),
                line.clone(),
                decorate.clone(),
                slot.clone(),
                sentinel.clone(),
                pages.clone(),
            );
            spawn_local(async move {
                match net::api::<PhotoPage>(&req).await {
                    Ok(page) => {
                        pages.set(pages.get() + 1);
                        say(&line, "", false);
                        if page.photos.is_empty() && grid.child_element_count() == 0 {
                            say(&line, "No photos yet.", false);
                        }
                        for p in &page.photos {
                            let _ = grid.append_child(&decorate(p, tile(p)).0);
                        }
                        BROWSED.with(|b| {
                            b.borrow_mut()
                                .extend(page.photos.iter().map(|p| p.id.clone()))
                        });
                        let cursor = Cursor::after(page.next_cursor.as_deref());
                        let end = cursor.is_end();
                        if end {
                            let _ = more.set_attribute("hidden", "");
                        }
                        *state.borrow_mut() = (cursor, false);
                        // Observing again reports the sentinel's current state, so a page too
                        // short to scroll still loads the next one.
                        if let (false, Some(o)) = (end, slot.borrow().as_ref()) {
                            o.unobserve(&sentinel);
                            o.observe(&sentinel);
                        }
                    }
                    Err(e) => {
                        failed(&line, &e);
                        state.borrow_mut().1 = false;
                    }
                }
            });
        })
    };
    let load_a = load.clone();
    let more = more.on("click", move |_| load_a());
    let _ = more;
    let load_b = load.clone();
    let callback = Closure::<dyn FnMut(js_sys::Array, IntersectionObserver)>::new(
        move |entries: js_sys::Array, _| {
            if entries.iter().any(|e| {
                e.unchecked_into::<IntersectionObserverEntry>()
                    .is_intersecting()
            }) {
                load_b();
            }
        },
    );
    let init = web_sys::IntersectionObserverInit::new();
    init.set_root_margin("400px");
    if let Ok(observer) =
        IntersectionObserver::new_with_options(callback.as_ref().unchecked_ref(), &init)
    {
        observer.observe(&sentinel.element());
        *observer_slot.borrow_mut() = Some(observer.clone());
        dom::keep_observer(observer, Box::new(callback));
    }
    load();
    (wrapper, grid)
}
