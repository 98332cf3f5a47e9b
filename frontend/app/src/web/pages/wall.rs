//! The photo wall of the timeline and of an album: justified rows that keep each photo's aspect
//! ratio, under date headers on the timeline; pages loaded as the user scrolls; tiles that wait
//! for their photo to be processed; and the selection (a check on each tile, shift-click for a
//! range, long-press on a touch screen).
//!
//! The wall of the page on screen is kept in [`current`], where the lightbox finds a photo's
//! previous and next (in the wall's order, loading further pages when it must) and the
//! selection bar finds what is selected.

mod select;

use std::cell::{Cell, RefCell};
use std::collections::{BTreeSet, HashMap};
use std::rc::{Rc, Weak};

use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;
use wasm_bindgen_futures::spawn_local;
use web_sys::{Element, IntersectionObserver, IntersectionObserverEntry};

use super::{failed, status};
use crate::api::{self, ApiError, ApiRequest, Cursor, Photo, PhotoPage, PhotoStatus};
use crate::messages;
use crate::route::Route;
use crate::timeline::{self, Date, Heading};
use crate::web::dom::{self, El, button, el, link, say};
use crate::web::{net, renew};

/// The most pages a search for one photo or month loads before it gives up.
const MAX_PAGES: usize = 200;
/// How long a touch is held to select a photo, in milliseconds.
const LONG_PRESS_MS: u32 = 500;

thread_local! {
    static CURRENT: RefCell<Option<Rc<Wall>>> = const { RefCell::new(None) };
}

/// The wall of the page on screen, if it has one.
pub(super) fn current() -> Option<Rc<Wall>> {
    CURRENT.with(|c| c.borrow().clone())
}

/// Which listing a wall shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Source {
    Timeline,
    Album(String),
    /// A share link's photos, for a guest: all of them at once, nothing to select.
    Share(Shared),
}

/// A share link as its guest opened it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Shared {
    pub token: String,
    /// The password it took, kept for the visit.
    pub password: Option<String>,
    pub allow_download: bool,
}

impl Source {
    fn request(&self, cursor: &Cursor) -> Option<ApiRequest> {
        match self {
            Source::Timeline => api::list_timeline(cursor, api::PAGE_SIZE),
            Source::Album(id) => api::list_album_photos(id, cursor, api::PAGE_SIZE),
            Source::Share(_) => None,
        }
    }

    /// The page the wall is on: what the lightbox opens over.
    pub(super) fn page(&self) -> Route {
        match self {
            Source::Timeline => Route::Gallery,
            Source::Album(id) => Route::Album(id.clone()),
            Source::Share(s) => Route::PublicShare(s.token.clone()),
        }
    }

    /// The share link a guest is looking at, if that is what this is.
    pub(super) fn shared(&self) -> Option<&Shared> {
        match self {
            Source::Share(s) => Some(s),
            _ => None,
        }
    }
}

/// Told the number of photos selected.
type OnSelect = Box<dyn Fn(usize)>;

/// What is selected, and where the last plain selection was (a shift-click's anchor).
#[derive(Default)]
struct Selection {
    ids: BTreeSet<String>,
    anchor: Option<String>,
}

pub(super) struct Wall {
    /// Itself, for what a tile starts in the background (polling a pending photo).
    me: Weak<Wall>,
    pub(super) source: Source,
    root: Element,
    line: Element,
    more: Element,
    photos: RefCell<HashMap<String, Photo>>,
    cursor: RefCell<Cursor>,
    /// Where the pages loaded so far end (the timeline's order): a photo that sorts after it
    /// belongs to a page not loaded yet.
    loaded_to: RefCell<Option<(String, String)>>,
    busy: Cell<bool>,
    /// Pages shown so far: what a renewal of expired thumbnails asks for again.
    pages: Cell<usize>,
    today: Date,
    selection: RefCell<Selection>,
    /// Told whenever the selection changes (the selection bar).
    on_select: RefCell<Option<OnSelect>>,
    /// A long press just selected: the click that ends it does not open the photo.
    pressed: Cell<bool>,
    press: Cell<u32>,
    /// A finger is on a tile.
    touching: Cell<bool>,
}

impl Wall {
    /// A wall showing `source`, made the current one; it starts loading at once. Its element
    /// is [`Wall::element`].
    pub(super) fn new(source: Source) -> (Rc<Wall>, El) {
        let (wall, section) = Wall::build(source);
        wall.clone().load_soon();
        (wall, section)
    }

    /// A guest's wall of a share link's photos, all given.
    pub(super) fn shared(shared: Shared, photos: &[Photo]) -> (Rc<Wall>, El) {
        let (wall, section) = Wall::build(Source::Share(shared));
        for p in photos {
            wall.append(p);
        }
        *wall.cursor.borrow_mut() = Cursor::End;
        let _ = wall.more.set_attribute("hidden", "");
        (wall, section)
    }

    fn build(source: Source) -> (Rc<Wall>, El) {
        let root = el("div").class("grid wall").attr("aria-label", "Photos");
        let line = status();
        let more = button("Load more").class("secondary");
        let sentinel = el("div").class("sentinel");
        let wall = Rc::new_cyclic(|me| Wall {
            me: me.clone(),
            source,
            root: root.element(),
            line: line.element(),
            more: more.element(),
            photos: RefCell::default(),
            cursor: RefCell::new(Cursor::Start),
            loaded_to: RefCell::default(),
            busy: Cell::new(false),
            pages: Cell::new(0),
            today: local_today(),
            selection: RefCell::default(),
            on_select: RefCell::default(),
            pressed: Cell::new(false),
            press: Cell::new(0),
            touching: Cell::new(false),
        });
        CURRENT.with(|c| *c.borrow_mut() = Some(wall.clone()));
        if wall.source.shared().is_none() {
            wall.listen_for_clicks();
        }
        {
            let w = wall.clone();
            renew::on_failed_image(&wall.root, move || {
                let w = w.clone();
                async move { w.renew_thumbnails().await }
            });
        }
        let w = wall.clone();
        let more = more.on("click", move |_| w.clone().load_soon());
        let section = el("section")
            .child(root)
            .child(line)
            .child(more)
            .child(sentinel.clone());
        wall.observe(&sentinel.element());
        (wall, section)
    }

    /// Loads the next page in the background, unless one is on its way or none is left.
    pub(super) fn load_soon(self: Rc<Self>) {
        spawn_local(async move {
            let _ = self.next_page().await;
        });
    }

    /// Loads the next page; `Ok(false)` once there is none left. Waits for a page on its way.
    async fn next_page(&self) -> Result<bool, ApiError> {
        for _ in 0..600 {
            if !self.busy.get() {
                break;
            }
            net::sleep(50).await;
        }
        let Some(request) = self.source.request(&self.cursor.borrow()) else {
            return Ok(false);
        };
        self.busy.set(true);
        let answer = net::api::<PhotoPage>(&request).await;
        self.busy.set(false);
        let page = match answer {
            Ok(page) => page,
            Err(e) => {
                failed(&self.line, &e);
                return Err(e);
            }
        };
        self.pages.set(self.pages.get() + 1);
        say(&self.line, "", false);
        for p in &page.photos {
            self.append(p);
        }
        if let Some(last) = page.photos.last() {
            *self.loaded_to.borrow_mut() = Some(timeline::sort_key(last));
        }
        if self.photos.borrow().is_empty() {
            say(&self.line, "No photos yet.", false);
        }
        let cursor = Cursor::after(page.next_cursor.as_deref());
        let end = cursor.is_end();
        if end {
            let _ = self.more.set_attribute("hidden", "");
        }
        *self.cursor.borrow_mut() = cursor;
        Ok(!end)
    }

    /// Loads pages until `found` says so, the listing ends, or `live` says the caller has
    /// moved on; whether `found` holds.
    async fn load_until(&self, found: impl Fn(&Wall) -> bool, live: &dyn Fn() -> bool) -> bool {
        for _ in 0..MAX_PAGES {
            if found(self) || !live() {
                break;
            }
            if !matches!(self.next_page().await, Ok(true)) {
                break;
            }
        }
        found(self)
    }

    /// Loads pages until `photo` is on the wall; whether it is. On the timeline the search
    /// ends once the pages have passed where the photo sorts (it is not listed there).
    pub(super) async fn find(&self, photo: &Photo, live: &dyn Fn() -> bool) -> bool {
        let key = timeline::sort_key(photo);
        let timeline = self.source == Source::Timeline;
        self.load_until(
            |w| {
                w.photos.borrow().contains_key(&photo.id)
                    || (timeline && w.loaded_to.borrow().as_ref().is_some_and(|k| *k < key))
            },
            live,
        )
        .await;
        self.photos.borrow().contains_key(&photo.id)
    }

    /// Loads pages until photo `id` has a photo after it, or the listing ends.
    pub(super) async fn reach_after(&self, id: &str, live: &dyn Fn() -> bool) -> bool {
        self.load_until(
            |w| {
                let order = w.order();
                order.last().is_some_and(|last| last != id) && order.iter().any(|x| x == id)
            },
            live,
        )
        .await
    }

    /// Scrolls to month `month` (`YYYY-MM`), loading pages until it is there: to its first
    /// header, or the first after it when it has no photos.
    pub(super) async fn jump_to(&self, month: &str) {
        let section = |w: &Wall| {
            let sections = w.root.query_selector_all("section[data-month]").ok()?;
            (0..sections.length())
                .filter_map(|i| sections.get(i)?.dyn_into::<Element>().ok())
                .find(|s| {
                    s.get_attribute("data-month")
                        .is_some_and(|m| m.as_str() <= month)
                })
        };
        self.load_until(|w| section(w).is_some(), &|| true).await;
        if let Some(s) = section(self) {
            s.scroll_into_view();
            if let Ok(Some(h)) = s.query_selector("h2") {
                let _ = h.set_attribute("tabindex", "-1");
                let _ = h.unchecked_into::<web_sys::HtmlElement>().focus();
            }
        }
    }

    /// The photos on the wall, in its order.
    pub(super) fn order(&self) -> Vec<String> {
        let Ok(tiles) = self.root.query_selector_all(".tile") else {
            return Vec::new();
        };
        (0..tiles.length())
            .filter_map(|i| tiles.get(i)?.dyn_into::<Element>().ok())
            .filter_map(|t| t.get_attribute("data-id"))
            .collect()
    }

    pub(super) fn photo(&self, id: &str) -> Option<Photo> {
        self.photos.borrow().get(id).cloned()
    }

    /// The photos before and after `id` on the wall as it is loaded now.
    pub(super) fn neighbours(&self, id: &str) -> (Option<String>, Option<String>) {
        let order = self.order();
        let Some(i) = order.iter().position(|x| x == id) else {
            return (None, None);
        };
        let prev = i.checked_sub(1).and_then(|i| order.get(i).cloned());
        (prev, order.get(i + 1).cloned())
    }

    /// The link of a photo's tile, to give focus back to.
    pub(super) fn tile_link(&self, id: &str) -> Option<web_sys::HtmlElement> {
        self.tile_el(id)?
            .query_selector("a")
            .ok()
            .flatten()?
            .dyn_into()
            .ok()
    }

    fn tile_el(&self, id: &str) -> Option<Element> {
        // Photo ids are ULIDs: nothing in them needs escaping in a selector.
        self.root
            .query_selector(&format!(".tile[data-id=\"{id}\"]"))
            .ok()
            .flatten()
    }

    /// The header section a photo belongs under, made where it sorts when it is new.
    fn section_for(&self, photo: &Photo) -> Element {
        let heading = match self.source {
            Source::Timeline => {
                Some(Heading::of_photo(photo, self.today).unwrap_or(Heading::Day(self.today)))
            }
            Source::Album(_) | Source::Share(_) => None,
        };
        let key = heading
            .as_ref()
            .map_or_else(|| "all".to_owned(), Heading::key);
        let sections = self.root.children();
        let mut before = None;
        for i in 0..sections.length() {
            let Some(s) = sections.item(i) else { continue };
            let k = s.get_attribute("data-key").unwrap_or_default();
            if k == key {
                return rows_of(&s);
            }
            if k < key && before.is_none() {
                before = Some(s);
            }
        }
        let section = el("section").class("day").attr("data-key", &key);
        let section = match &heading {
            Some(h) => section
                .attr("data-month", &h.month())
                .child(el("h2").text(&h.label(self.today))),
            None => section,
        };
        let section = section.child(el("div").class("rows"));
        let _ = match before {
            Some(b) => self.root.insert_before(&section.0, Some(&b)),
            None => self.root.append_child(&section.0),
        };
        rows_of(&section.element())
    }

    /// Adds a photo of a page, after every photo already there.
    fn append(&self, photo: &Photo) {
        if self.photos.borrow().contains_key(&photo.id) {
            return;
        }
        let rows = self.section_for(photo);
        let _ = rows.append_child(&self.tile(photo).0);
        self.photos
            .borrow_mut()
            .insert(photo.id.clone(), photo.clone());
    }

    /// Puts a photo where it sorts (a new upload, or one whose date processing learned),
    /// replacing its tile if it has one. A photo that sorts after every page loaded so far
    /// waits for its page.
    pub(super) fn put(&self, photo: &Photo) {
        let had = self.tile_el(&photo.id);
        let key = timeline::sort_key(photo);
        let same_place = self
            .photo(&photo.id)
            .is_some_and(|old| timeline::sort_key(&old) == key);
        match had {
            // Same place (an album keeps its own order): the tile changes where it is.
            Some(old) if same_place || self.source != Source::Timeline => {
                let _ = old.replace_with_with_node_1(&self.tile(photo).0);
            }
            had => {
                if let Some(old) = had {
                    self.drop_tile(&old);
                }
                let later_page = !self.cursor.borrow().is_end()
                    && self.loaded_to.borrow().as_ref().is_some_and(|k| key < *k);
                if later_page {
                    self.photos.borrow_mut().remove(&photo.id);
                    if self.selection.borrow_mut().ids.remove(&photo.id) {
                        self.selection_changed();
                    }
                    return;
                }
                let rows = self.section_for(photo);
                let tiles = rows.children();
                let next = (0..tiles.length()).filter_map(|i| tiles.item(i)).find(|t| {
                    let id = t.get_attribute("data-id").unwrap_or_default();
                    self.photo(&id)
                        .is_some_and(|p| timeline::sort_key(&p) < key)
                });
                let _ = rows.insert_before(&self.tile(photo).0, next.as_ref().map(AsRef::as_ref));
            }
        }
        self.photos
            .borrow_mut()
            .insert(photo.id.clone(), photo.clone());
        say(&self.line, "", false);
    }

    /// Takes a photo off the wall (deleted, or removed from the album).
    pub(super) fn remove(&self, id: &str) {
        if let Some(t) = self.tile_el(id) {
            self.drop_tile(&t);
        }
        self.photos.borrow_mut().remove(id);
        let changed = self.selection.borrow_mut().ids.remove(id);
        if changed {
            self.selection_changed();
        }
        if self.photos.borrow().is_empty() && self.cursor.borrow().is_end() {
            say(&self.line, "No photos yet.", false);
        }
    }

    /// Removes a tile, and its header when it was the last under it.
    fn drop_tile(&self, tile: &Element) {
        let section = tile.closest("section").ok().flatten();
        tile.remove();
        if let Some(s) = section
            && s.query_selector(".tile").ok().flatten().is_none()
        {
            s.remove();
        }
    }

    /// A photo's tile: its thumbnail (or a placeholder of the same size while it is processed,
    /// which polls until it is), a check to select it, and a star when it is a favourite.
    fn tile(&self, photo: &Photo) -> El {
        let name = photo.display_name();
        let open = link(&self.source.page().with_photo(&photo.id).path(), "")
            .class("open")
            .attr("aria-label", &name);
        let open = match (photo.status, &photo.thumbnail_url) {
            (PhotoStatus::Ready, Some(url)) => open.child(renew::lazy_image(url, &photo.id, &name)),
            (PhotoStatus::Failed, _) => open.child(
                el("span")
                    .class("failed")
                    .text("This photo could not be processed"),
            ),
            _ => {
                poll_until_processed(self.me.clone(), photo.id.clone());
                open.child(el("span").class("pending").text("Processing…"))
            }
        };
        let selected = self.selection.borrow().ids.contains(&photo.id);
        let tile = el("div")
            .class(if selected { "tile selected" } else { "tile" })
            .attr("data-id", &photo.id)
            .style("--a", &timeline::aspect_milli(photo).to_string())
            .child(open);
        let tile = if self.source.shared().is_some() {
            // A guest has nothing to select; the photo's title and date show under it.
            match timeline::caption(photo) {
                Some(text) => tile.child(el("span").class("caption").text(&text)),
                None => tile,
            }
        } else {
            tile.child(
                el("button")
                    .attr("type", "button")
                    .class("check")
                    .attr("aria-label", &format!("Select {name}"))
                    .attr("aria-pressed", if selected { "true" } else { "false" }),
            )
        };
        if photo.favourite {
            tile.child(
                el("span")
                    .class("fav")
                    .attr("aria-label", "favourite")
                    .text("★"),
            )
        } else {
            tile
        }
    }

    /// Asks for the first pages again and gives their thumbnails the fresh links.
    async fn renew_thumbnails(&self) {
        if let Some(shared) = self.source.shared() {
            let request = api::open_public_share(&shared.token, shared.password.as_deref());
            if let Ok(share) = net::api::<api::PublicShare>(&request).await {
                for p in &share.photos {
                    if let Some(url) = &p.thumbnail_url {
                        renew::swap(&self.root, &p.id, url);
                    }
                }
            }
            return;
        }
        let mut cursor = Cursor::Start;
        for _ in 0..self.pages.get() {
            let Some(req) = self.source.request(&cursor) else {
                return;
            };
            let Ok(page) = net::api::<PhotoPage>(&req).await else {
                return;
            };
            for p in &page.photos {
                if let Some(url) = &p.thumbnail_url {
                    renew::swap(&self.root, &p.id, url);
                }
            }
            cursor = Cursor::after(page.next_cursor.as_deref());
            if cursor.is_end() {
                return;
            }
        }
    }

    /// Loads the next page when the end of the wall comes near.
    fn observe(self: &Rc<Self>, sentinel: &Element) {
        let w = self.clone();
        let sentinel_el = sentinel.clone();
        let callback = Closure::<dyn FnMut(js_sys::Array, IntersectionObserver)>::new(
            move |entries: js_sys::Array, observer: IntersectionObserver| {
                let near = entries.iter().any(|e| {
                    e.unchecked_into::<IntersectionObserverEntry>()
                        .is_intersecting()
                });
                if near && !w.cursor.borrow().is_end() {
                    let (w, observer, sentinel) = (w.clone(), observer, sentinel_el.clone());
                    spawn_local(async move {
                        if let Ok(true) = w.next_page().await {
                            // Observing again reports the sentinel's state now, so a page too
                            // short to scroll still loads the next one.
                            observer.unobserve(&sentinel);
                            observer.observe(&sentinel);
                        }
                    });
                }
            },
        );
        let init = web_sys::IntersectionObserverInit::new();
        init.set_root_margin("800px");
        if let Ok(observer) =
            IntersectionObserver::new_with_options(callback.as_ref().unchecked_ref(), &init)
        {
            observer.observe(sentinel);
            dom::keep_observer(observer, Box::new(callback));
        }
    }
}

/// Today on the user's clock.
fn local_today() -> Date {
    let now = js_sys::Date::new_0();
    Date {
        year: now.get_full_year() as i32,
        month: now.get_month() + 1,
        day: now.get_date(),
    }
}

/// Forgets the wall of the page left behind.
pub(super) fn forget() {
    CURRENT.with(|c| c.borrow_mut().take());
}

fn rows_of(section: &Element) -> Element {
    section
        .query_selector(".rows")
        .ok()
        .flatten()
        .unwrap_or_else(|| section.clone())
}

/// Polls the API with backoff until a pending photo is processed, then puts it on the wall (a
/// date learned may move it under another header). Stops when the wall is gone.
fn poll_until_processed(weak: Weak<Wall>, id: String) {
    spawn_local(async move {
        for delay in messages::poll_delays() {
            net::sleep(delay).await;
            let Some(wall) = weak.upgrade() else { return };
            if !wall.root.is_connected() || wall.tile_el(&id).is_none() {
                return;
            }
            if let Ok(photo) = net::api::<Photo>(&api::get_photo(&id)).await
                && photo.status != PhotoStatus::Pending
            {
                wall.put(&photo);
                return;
            }
        }
    });
}
