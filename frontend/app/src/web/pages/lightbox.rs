//! The lightbox: a photo full screen on a dark background over the page it was opened from
//! (the timeline or an album), which stays rendered underneath, scrolled where it was.
//!
//! Previous and next come from that page's wall, loading further pages when the photo is at
//! the end of what is loaded (so a deep link or a reload has them too); moving between photos
//! replaces the history entry, so Back and Escape both return to the page. Arrows, Escape,
//! swipes, zoom (wheel, pinch, double-click, drag to pan), and an info panel on demand with
//! the photo's details and what its owner can do with it. Focus moves in when it opens, stays
//! in while it is open, and returns to the photo's tile when it closes.

mod zoom;

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use wasm_bindgen::JsCast;
use wasm_bindgen_futures::spawn_local;
use web_sys::{Element, Event, HtmlElement, KeyboardEvent};

use self::zoom::Zoom;

use super::albums::add_to_album;
use super::shares::{Preview, share_button};
use super::wall::{self, Shared};
use super::{confirmed, form, send, send_text, status, submit};
use crate::api::{self, Photo, PhotoPatch, PhotoStatus, ShareKind};
use crate::messages;
use crate::route::Route;
use crate::timeline;
use crate::web::dom::{self, El, Layer, button, document, el, field, listen, say, window};
use crate::web::{net, redirect, renew};

thread_local! {
    static OPEN: RefCell<Option<Rc<Lightbox>>> = const { RefCell::new(None) };
}

struct Lightbox {
    root: Element,
    figure: Element,
    info: Element,
    info_button: Element,
    prev: Element,
    next: Element,
    actions: Element,
    line: Element,
    /// The page under it, and whether the user came to the lightbox from it (so leaving is
    /// going back) rather than by a link or a reload.
    page: Route,
    from_page: bool,
    id: RefCell<String>,
    /// Which display is current: an answer for a photo left behind is dropped.
    shown: Cell<u32>,
    /// The photo shown, as the API last answered for it (`None` until it has).
    photo: RefCell<Option<Photo>>,
    /// Leaving has begun (Back is asynchronous): a second Escape does not go back twice.
    closing: Cell<bool>,
    /// The page's title, given back when the lightbox closes.
    page_title: String,
    zoom: Zoom,
}

/// Opens the lightbox on `route`'s photo, or shows that photo in the open one.
pub(super) fn show(route: &Route, from_page: bool) {
    let Some(id) = route.photo() else { return };
    // A shared photo opens once its share page has loaded (and shown its wall).
    let guest_wall = wall::current().is_some_and(|w| w.source.shared().is_some());
    if matches!(route, Route::SharedPhoto(..)) && !guest_wall {
        return;
    }
    let lb = match OPEN.with(|o| o.borrow().clone()) {
        Some(lb) => lb,
        None => {
            let lb = dom::in_layer(Layer::Overlay, || build(route.page(), from_page));
            OPEN.with(|o| *o.borrow_mut() = Some(lb.clone()));
            if let Some(body) = document().body() {
                let _ = body.append_child(&lb.root);
                let _ = body.class_list().add_1("lightbox-open");
            }
            if let Ok(root) = lb.root.clone().dyn_into::<HtmlElement>() {
                let _ = root.focus();
            }
            lb
        }
    };
    lb.display(id);
}

pub(super) fn is_open() -> bool {
    OPEN.with(|o| o.borrow().is_some())
}

/// Closes the lightbox (the route left it) and gives focus back to the photo's tile.
pub(super) fn close() {
    let Some(lb) = OPEN.with(|o| o.borrow_mut().take()) else {
        return;
    };
    lb.root.remove();
    dom::clear_layer(Layer::Overlay);
    document().set_title(&lb.page_title);
    if let Some(body) = document().body() {
        let _ = body.class_list().remove_1("lightbox-open");
    }
    let id = lb.id.borrow().clone();
    if let Some(a) = wall::current().and_then(|w| w.tile_link(&id)) {
        let _ = a.focus();
    }
}

/// Leaves the lightbox for the page under it, as Back does.
fn dismiss(lb: &Lightbox) {
    if lb.closing.replace(true) {
        return;
    }
    if lb.from_page {
        if let Ok(h) = window().history() {
            let _ = h.back();
        }
    } else {
        redirect(&lb.page.path());
    }
}

fn build(page: Route, from_page: bool) -> Rc<Lightbox> {
    let figure = el("figure").class("lb-photo");
    let info = el("aside")
        .class("lb-info")
        .attr("aria-label", "Info")
        .attr("hidden", "");
    let info_button = button("Info")
        .class("lb-button")
        .attr("aria-expanded", "false")
        .attr("aria-label", "Info");
    let prev = button("‹")
        .class("lb-nav lb-prev")
        .attr("aria-label", "Previous photo");
    let next = button("›")
        .class("lb-nav lb-next")
        .attr("aria-label", "Next photo");
    let close_button = button("✕").class("lb-button").attr("aria-label", "Close");
    let actions = el("div").class("lb-actions");
    let line = status().class("lb-line");
    let bar = el("div")
        .class("lb-bar")
        .child(close_button.clone())
        .child(el("span").class("spacer"))
        .child(actions.clone())
        .child(info_button.clone());
    let root = el("div")
        .class("lightbox")
        .attr("role", "dialog")
        .attr("aria-modal", "true")
        .attr("aria-label", "Photo")
        .attr("tabindex", "-1")
        .child(figure.clone())
        .child(prev.clone())
        .child(next.clone())
        .child(bar)
        .child(line.clone())
        .child(info.clone());
    let lb = Rc::new(Lightbox {
        root: root.element(),
        figure: figure.element(),
        info: info.element(),
        info_button: info_button.element(),
        prev: prev.element(),
        next: next.element(),
        actions: actions.element(),
        line: line.element(),
        page,
        from_page,
        id: RefCell::default(),
        shown: Cell::new(0),
        photo: RefCell::default(),
        closing: Cell::new(false),
        page_title: document().title(),
        zoom: Zoom::new(figure.element()),
    });
    let l = lb.clone();
    listen(&close_button.element(), "click", move |_| dismiss(&l));
    let l = lb.clone();
    listen(&lb.prev, "click", move |_| l.step(-1));
    let l = lb.clone();
    listen(&lb.next, "click", move |_| l.step(1));
    let l = lb.clone();
    listen(&lb.info_button, "click", move |_| l.toggle_info());
    let l = lb.clone();
    listen(&document(), "keydown", move |e| l.key(&e));
    lb.zoom.listen(lb.clone());
    // A picture left open past its link's lifetime asks for a fresh one.
    let l = lb.clone();
    renew::on_failed_image(&lb.figure, move || {
        let (figure, id) = (l.figure.clone(), l.id.borrow().clone());
        let shared = wall::current().and_then(|w| w.source.shared().cloned());
        async move {
            // A guest asks the share again; the owner, the photo.
            let fresh = match shared {
                Some(s) => {
                    let request = api::open_public_share(&s.token, s.password.as_deref());
                    net::api::<api::PublicShare>(&request)
                        .await
                        .ok()
                        .and_then(|share| share.photos.into_iter().find(|p| p.id == id))
                }
                None => net::api::<Photo>(&api::get_photo(&id)).await.ok(),
            };
            if let Some(url) = fresh.as_ref().and_then(shown_url) {
                renew::swap(&figure, &id, url);
            }
        }
    });
    lb
}

/// The link of the picture the lightbox shows: the preview, else the thumbnail.
fn shown_url(photo: &Photo) -> Option<&String> {
    photo.preview_url.as_ref().or(photo.thumbnail_url.as_ref())
}

impl Lightbox {
    /// Shows photo `id`: its picture at once from the wall's copy when the wall has it; its
    /// actions and details once the API answers for it (with what a listing leaves out, the
    /// original's link).
    fn display(self: &Rc<Self>, id: &str) {
        *self.id.borrow_mut() = id.to_owned();
        *self.photo.borrow_mut() = None;
        let shown = self.shown.get().wrapping_add(1);
        self.shown.set(shown);
        say(&self.line, "", false);
        self.update_nav();
        dom::clear_layer(Layer::Details);
        self.actions.set_text_content(None);
        self.info.set_text_content(None);
        let wall = wall::current();
        // A guest's photo is all there is on the share's wall: nothing more to ask.
        if let Some(w) = wall.as_ref().filter(|w| w.source.shared().is_some()) {
            match w.photo(id) {
                Some(photo) => {
                    self.picture(&photo);
                    self.details(&photo);
                }
                None => say(&self.line, "This photo is not in this link.", true),
            }
            return;
        }
        match wall.as_ref().and_then(|w| w.photo(id)) {
            Some(photo) => self.picture(&photo),
            None => self.figure.set_text_content(None),
        }
        let (lb, id) = (self.clone(), id.to_owned());
        spawn_local(async move {
            let answer = net::api::<Photo>(&api::get_photo(&id)).await;
            if lb.shown.get() != shown {
                return;
            }
            let photo = match answer {
                Ok(photo) => photo,
                Err(e) => return super::failed(&lb.line, &e),
            };
            if !lb.figure.has_child_nodes() {
                lb.picture(&photo);
            }
            lb.details(&photo);
            // A photo beyond what the wall has loaded (a deep link, a reload, the last tile)
            // waits for the pages that hold it and its neighbours; the search stops when the
            // user moves on or the wall has passed where the photo sorts.
            if let Some(w) = wall {
                let live = || lb.shown.get() == shown;
                if w.find(&photo, &live).await {
                    w.reach_after(&photo.id, &live).await;
                }
                if live() {
                    lb.update_nav();
                }
            }
        });
    }

    fn neighbours(&self) -> (Option<String>, Option<String>) {
        wall::current()
            .map(|w| w.neighbours(&self.id.borrow()))
            .unwrap_or_default()
    }

    fn update_nav(&self) {
        let (prev, next) = self.neighbours();
        let active = document().active_element();
        for (b, there) in [(&self.prev, prev.is_some()), (&self.next, next.is_some())] {
            if there {
                let _ = b.remove_attribute("hidden");
            } else {
                let _ = b.set_attribute("hidden", "");
                // The button in focus went: focus stays in the lightbox.
                if active.as_ref() == Some(b)
                    && let Ok(root) = self.root.clone().dyn_into::<HtmlElement>()
                {
                    let _ = root.focus();
                }
            }
        }
        // Let the browser fetch the neighbours' pictures while this one is looked at.
        if let Some(w) = wall::current() {
            for id in [prev, next].into_iter().flatten() {
                if let (Some(url), Ok(img)) = (
                    w.photo(&id).as_ref().and_then(shown_url),
                    web_sys::HtmlImageElement::new(),
                ) {
                    img.set_src(url);
                }
            }
        }
    }

    /// Moves to the previous (`-1`) or next (`1`) photo, replacing the history entry.
    fn step(self: &Rc<Self>, by: i32) {
        let (prev, next) = self.neighbours();
        let Some(id) = (if by < 0 { prev } else { next }) else {
            return;
        };
        if let Ok(h) = window().history() {
            let path = self.page.with_photo(&id).path();
            let _ = h.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&path));
        }
        self.display(&id);
    }

    fn key(self: &Rc<Self>, e: &Event) {
        let Some(k) = e.dyn_ref::<KeyboardEvent>() else {
            return;
        };
        // A dialog over the lightbox (sharing) has the keyboard.
        if super::dialog_open() {
            return;
        }
        let target = e.target().and_then(|t| t.dyn_into::<Element>().ok());
        let typing = target
            .as_ref()
            .is_some_and(|t| matches!(t.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT"));
        match k.key().as_str() {
            "Escape" if typing => {
                if let Some(t) = target.and_then(|t| t.dyn_into::<HtmlElement>().ok()) {
                    let _ = t.blur();
                }
            }
            "Escape" => {
                e.prevent_default();
                dismiss(self);
            }
            "ArrowLeft" if !typing => self.step(-1),
            "ArrowRight" if !typing => self.step(1),
            "Tab" => self.trap_focus(k),
            _ => {}
        }
    }

    /// Keeps Tab and Shift-Tab among the lightbox's own controls.
    fn trap_focus(&self, k: &KeyboardEvent) {
        let Ok(list) = self
            .root
            .query_selector_all("button:not([hidden]), a[href], input, select")
        else {
            return;
        };
        let items: Vec<HtmlElement> = (0..list.length())
            .filter_map(|i| list.get(i)?.dyn_into::<HtmlElement>().ok())
            .filter(|e| e.offset_parent().is_some())
            .collect();
        let (Some(first), Some(last)) = (items.first(), items.last()) else {
            return;
        };
        let active = document().active_element();
        let inside = active.as_ref().is_some_and(|a| self.root.contains(Some(a)));
        let at = |x: &HtmlElement| active.as_ref().is_some_and(|a| a == x.as_ref());
        if k.shift_key() && (at(first) || !inside) {
            k.prevent_default();
            let _ = last.focus();
        } else if !k.shift_key() && (at(last) || !inside) {
            k.prevent_default();
            let _ = first.focus();
        }
    }

    fn toggle_info(self: &Rc<Self>) {
        let open = self.info.has_attribute("hidden");
        if open {
            let _ = self.info.remove_attribute("hidden");
        } else {
            let _ = self.info.set_attribute("hidden", "");
        }
        let _ = self
            .info_button
            .set_attribute("aria-expanded", if open { "true" } else { "false" });
        let _ = self.root.class_list().toggle_with_force("with-info", open);
        if open && !self.info.has_child_nodes() {
            let photo = self.photo.borrow().clone();
            if let Some(p) = photo {
                dom::in_layer(Layer::Details, || {
                    dom::replace_children(&self.info, &self.info_of(&p));
                });
            }
        }
    }

    /// Shows a photo's picture.
    fn picture(&self, photo: &Photo) {
        let _ = self.root.set_attribute("aria-label", &photo.display_name());
        crate::web::set_title(&photo.display_name());
        let picture = match shown_url(photo) {
            Some(url) => {
                renew::image(url, &photo.id, &photo.display_name()).attr("draggable", "false")
            }
            None => el("p")
                .class("notice")
                .text(if photo.status == PhotoStatus::Failed {
                    "This photo could not be processed."
                } else {
                    "This photo is still being processed."
                }),
        };
        dom::replace_children(&self.figure, &picture);
        self.zoom.set_image(&picture.element());
    }

    /// Shows a photo's actions, and its info panel when that is open. They are built again
    /// for each photo, and their listeners go with them.
    fn details(self: &Rc<Self>, photo: &Photo) {
        *self.photo.borrow_mut() = Some(photo.clone());
        dom::clear_layer(Layer::Details);
        dom::in_layer(Layer::Details, || {
            dom::replace_children(&self.actions, &self.actions_of(photo));
            if self.info.has_attribute("hidden") {
                self.info.set_text_content(None);
            } else {
                dom::replace_children(&self.info, &self.info_of(photo));
            }
        });
    }

    fn actions_of(self: &Rc<Self>, photo: &Photo) -> El {
        if let Some(shared) = wall::current().and_then(|w| w.source.shared().cloned()) {
            return guest_actions(&shared, photo, &self.line);
        }
        let fav = Rc::new(Cell::new(photo.favourite));
        let fav_button = button(if photo.favourite { "★" } else { "☆" })
            .class("lb-button")
            .attr("aria-label", "Favourite")
            .attr(
                "aria-pressed",
                if photo.favourite { "true" } else { "false" },
            );
        let (fb, id, line, lb) = (
            fav_button.element(),
            photo.id.clone(),
            self.line.clone(),
            self.clone(),
        );
        let fav_button = fav_button.on("click", move |_| {
            let want = !fav.get();
            let (fb, fav, lb) = (fb.clone(), fav.clone(), lb.clone());
            send(
                &line,
                api::update_photo(&id, &PhotoPatch::favourite(want)),
                move |photo: Photo| {
                    fav.set(want);
                    fb.set_text_content(Some(if want { "★" } else { "☆" }));
                    let _ = fb.set_attribute("aria-pressed", if want { "true" } else { "false" });
                    lb.updated(&photo);
                },
            );
        });
        let download = match &photo.original_url {
            Some(url) => {
                let id = photo.id.clone();
                renew::download(url, &photo.file_name, "Download", move || {
                    let id = id.clone();
                    async move {
                        net::api::<Photo>(&api::get_photo(&id))
                            .await
                            .ok()
                            .and_then(|p| p.original_url)
                    }
                })
                .class("lb-button")
                .attr("aria-label", "Download original")
            }
            None => el("span"),
        };
        let (id, line, lb) = (photo.id.clone(), self.line.clone(), self.clone());
        let delete = button("Delete")
            .class("lb-button")
            .attr("aria-label", "Delete")
            .on("click", move |_| {
                if !confirmed("Delete this photo? This cannot be undone.") {
                    return;
                }
                let (id2, lb) = (id.clone(), lb.clone());
                send_text(&line, api::delete_photo(&id), move || lb.deleted(&id2));
            });
        let share = share_button(
            ShareKind::Photo,
            photo.id.clone(),
            Preview {
                title: photo.display_name(),
                detail: messages::photo_detail(photo),
                thumbnail: photo.thumbnail_url.clone(),
            },
        )
        .class("lb-button");
        el("div")
            .class("row")
            .child(fav_button)
            .child(share)
            .child(download)
            .child(delete)
    }

    /// After a delete: the next photo, else the previous, else back to the page.
    fn deleted(self: &Rc<Self>, id: &str) {
        let (prev, next) = wall::current()
            .map(|w| w.neighbours(id))
            .unwrap_or_default();
        if let Some(w) = wall::current() {
            w.remove(id);
        }
        if *self.id.borrow() != id {
            // The user moved on before the answer came.
            self.update_nav();
            return;
        }
        match next.or(prev) {
            Some(other) => {
                if let Ok(h) = window().history() {
                    let path = self.page.with_photo(&other).path();
                    let _ = h.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&path));
                }
                self.display(&other);
                say(&self.line, "Deleted.", false);
            }
            None => dismiss(self),
        }
    }

    /// A photo changed here (title, favourite): its tile on the wall shows it too.
    fn updated(&self, photo: &Photo) {
        if let Some(w) = wall::current() {
            w.put(photo);
        }
    }

    fn info_of(self: &Rc<Self>, photo: &Photo) -> El {
        let heading = el("h2").text(&photo.display_name());
        let details = el("dl").children(
            timeline::details(photo)
                .into_iter()
                .flat_map(|(k, v)| [el("dt").text(k), el("dd").text(&v)]),
        );
        if wall::current().is_some_and(|w| w.source.shared().is_some()) {
            return el("div").child(heading).child(details);
        }
        let (title_l, title) = field("Title", "text", "title");
        let _ = title.remove_attribute("required");
        title.set_value(&photo.title);
        let (id, line, h, lb) = (
            photo.id.clone(),
            self.line.clone(),
            heading.element(),
            self.clone(),
        );
        let title_form = form(move || {
            let (line2, h, lb) = (line.clone(), h.clone(), lb.clone());
            send(
                &line,
                api::update_photo(&id, &PhotoPatch::title(&title.value())),
                move |photo: Photo| {
                    h.set_text_content(Some(&photo.display_name()));
                    say(&line2, "Saved.", false);
                    lb.updated(&photo);
                },
            );
        })
        .child(title_l)
        .child(submit("Save title"));
        el("div")
            .child(heading)
            .child(details)
            .child(title_form)
            .child(add_to_album(photo.id.clone()))
    }
}

/// What a guest can do with a shared photo: download its original, when the owner allowed it.
/// The link is asked for at the click (one signature a download, never one a photo shown).
fn guest_actions(shared: &Shared, photo: &Photo, line: &Element) -> El {
    if !shared.allow_download {
        return el("span");
    }
    let a = el("a")
        .class("lb-button")
        .attr("href", "#")
        .attr("download", "")
        .text("Download");
    let anchor: HtmlElement = a.html();
    let ready = Rc::new(Cell::new(false));
    let (shared, id, line) = (shared.clone(), photo.id.clone(), line.clone());
    a.on("click", move |e: Event| {
        if ready.replace(false) {
            return;
        }
        e.prevent_default();
        let (shared, id, line, anchor, ready) = (
            shared.clone(),
            id.clone(),
            line.clone(),
            anchor.clone(),
            ready.clone(),
        );
        spawn_local(async move {
            let request = api::share_download(&shared.token, &id, shared.password.as_deref());
            match net::api::<api::Download>(&request).await {
                Ok(link) => {
                    let _ = anchor.set_attribute("href", &link.url);
                    ready.set(true);
                    anchor.click();
                }
                Err(e) => super::failed(&line, &e),
            }
        });
    })
}
