//! Uploads, in a tray at the foot of the screen that stays there across pages: a count
//! ("12 of 64 uploaded") that expands to a row per file (its name beside its progress or its
//! error, and a retry button when trying again may work), and that can be dismissed. A few
//! files go at a time. A file whose first bytes are not an image's is refused before any byte
//! moves. Each finished upload joins the timeline on screen and updates the storage line.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::rc::Rc;

use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;
use wasm_bindgen_futures::spawn_local;
use web_sys::{Element, File, HtmlElement};

use super::failed;
use super::wall::{self, Source};
use crate::api::{self, ApiError, UploadGrant, UploadIntent, Usage};
use crate::messages;
use crate::web::dom::{El, button, document, el, say};
use crate::web::net;

/// How many files upload at the same time; the rest wait their turn.
const PARALLEL_UPLOADS: usize = 3;

thread_local! {
    static TRAY: RefCell<Option<Rc<Tray>>> = const { RefCell::new(None) };
}

/// One file's row: its status line, its progress bar and its retry button.
#[derive(Clone)]
struct Row {
    li: Element,
    line: Element,
    bar: Element,
    retry: HtmlElement,
}

struct Tray {
    root: Element,
    summary: Element,
    toggle: Element,
    list: Element,
    total: Cell<usize>,
    uploaded: Cell<usize>,
    refused: Cell<usize>,
    queue: RefCell<VecDeque<(File, Row)>>,
    running: Cell<usize>,
    /// A usage refresh is on its way; another was asked for meanwhile.
    usage: Cell<(bool, bool)>,
}

/// Runs `f` on every `ty` event of `target` for the rest of the session (the tray outlives
/// pages, so its few listeners are never removed).
fn forever(target: &Element, ty: &str, f: impl FnMut(web_sys::Event) + 'static) {
    let closure = Closure::<dyn FnMut(web_sys::Event)>::new(f);
    let _ = target.add_event_listener_with_callback(ty, closure.as_ref().unchecked_ref());
    closure.forget();
}

/// The tray, to put back on the screen after a page is rendered (`None` before any upload).
pub fn tray() -> Option<Element> {
    TRAY.with(|t| t.borrow().as_ref().map(|t| t.root.clone()))
}

/// Forgets the uploads (at sign-out): what waits is dropped and the tray goes; a file on its
/// way fails without the session.
pub fn forget() {
    if let Some(tray) = TRAY.with(|t| t.borrow_mut().take()) {
        tray.queue.borrow_mut().clear();
        tray.root.remove();
    }
}

fn the_tray() -> Rc<Tray> {
    if let Some(t) = TRAY.with(|t| t.borrow().clone()) {
        return t;
    }
    let summary = el("strong");
    let toggle = button("Show files")
        .class("secondary")
        .attr("aria-expanded", "false");
    let dismiss = button("✕")
        .class("secondary")
        .attr("aria-label", "Dismiss finished uploads");
    let list = el("ul")
        .class("uploads")
        .attr("aria-label", "Uploads")
        .attr("hidden", "");
    let root = el("section")
        .class("tray")
        .attr("aria-label", "Uploads")
        .child(
            el("div")
                .class("row")
                .child(summary.clone().attr("aria-live", "polite"))
                .child(el("span").class("spacer"))
                .child(toggle.clone())
                .child(dismiss.clone()),
        )
        .child(list.clone());
    let tray = Rc::new(Tray {
        root: root.element(),
        summary: summary.element(),
        toggle: toggle.element(),
        list: list.element(),
        total: Cell::new(0),
        uploaded: Cell::new(0),
        refused: Cell::new(0),
        queue: RefCell::default(),
        running: Cell::new(0),
        usage: Cell::new((false, false)),
    });
    let t = tray.clone();
    forever(&tray.toggle, "click", move |_| {
        t.expand(t.list.has_attribute("hidden"))
    });
    let t = tray.clone();
    forever(&dismiss.element(), "click", move |_| t.dismiss());
    TRAY.with(|slot| *slot.borrow_mut() = Some(tray.clone()));
    if let Some(app) = document().get_element_by_id("app") {
        let _ = app.append_child(&tray.root);
    }
    tray
}

/// Queues uploads, each with its own row, and runs a few at a time.
pub(super) fn start_uploads(files: Vec<File>) {
    if files.is_empty() {
        return;
    }
    let tray = the_tray();
    let _ = tray.root.remove_attribute("hidden");
    for file in files {
        let line = el("span").text("Waiting…");
        let bar = el("progress")
            .attr("max", "1")
            .attr("value", "0")
            .attr("aria-label", &format!("Upload of {}", file.name()));
        let retry = button("Retry").class("secondary").attr("hidden", "");
        let li = el("li")
            .child(el("span").class("name").text(&file.name()))
            .child(line.clone())
            .child(bar.clone())
            .child(retry.clone());
        let _ = tray.list.append_child(&li.0);
        let row = Row {
            li: li.element(),
            line: line.element(),
            bar: bar.element(),
            retry: retry.html(),
        };
        tray.queue.borrow_mut().push_back((file, row));
        tray.total.set(tray.total.get() + 1);
    }
    tray.count();
    while tray.running.get() < PARALLEL_UPLOADS && !tray.queue.borrow().is_empty() {
        tray.running.set(tray.running.get() + 1);
        let tray = tray.clone();
        spawn_local(async move {
            loop {
                let job = tray.queue.borrow_mut().pop_front();
                let Some((file, row)) = job else { break };
                upload_one(tray.clone(), file, row).await;
            }
            tray.running.set(tray.running.get() - 1);
        });
    }
}

impl Tray {
    fn count(&self) {
        let (total, uploaded, refused) =
            (self.total.get(), self.uploaded.get(), self.refused.get());
        let mut text = format!("{uploaded} of {total} uploaded");
        if refused > 0 {
            text.push_str(&format!(", {refused} not uploaded"));
        }
        self.summary.set_text_content(Some(&text));
    }

    fn expand(&self, open: bool) {
        let _ = if open {
            self.list.remove_attribute("hidden")
        } else {
            self.list.set_attribute("hidden", "")
        };
        let _ = self
            .toggle
            .set_attribute("aria-expanded", if open { "true" } else { "false" });
        self.toggle
            .set_text_content(Some(if open { "Hide files" } else { "Show files" }));
    }

    /// Takes away the finished rows; the tray goes when nothing is left in it.
    fn dismiss(&self) {
        let Ok(rows) = self.list.query_selector_all("li[data-done]") else {
            return;
        };
        for i in 0..rows.length() {
            if let Some(r) = rows.get(i).and_then(|r| r.dyn_into::<Element>().ok()) {
                r.remove();
            }
        }
        let left = self.list.child_element_count() as usize;
        self.total.set(left);
        self.uploaded.set(0);
        self.refused.set(0);
        self.count();
        if left == 0 {
            let _ = self.root.set_attribute("hidden", "");
            self.expand(false);
        }
    }

    /// Marks a row finished: uploaded, or not (and then the list opens to say why).
    fn finished(&self, row: &Row, ok: bool) {
        let _ = row
            .li
            .set_attribute("data-done", if ok { "ok" } else { "failed" });
        if ok {
            self.uploaded.set(self.uploaded.get() + 1);
        } else {
            self.refused.set(self.refused.get() + 1);
            self.expand(true);
        }
        self.count();
    }

    /// Asks for the storage line again, once at a time (the last ask is never lost).
    fn refresh_usage(self: &Rc<Self>) {
        let (busy, _) = self.usage.get();
        if busy {
            self.usage.set((true, true));
            return;
        }
        self.usage.set((true, false));
        let tray = self.clone();
        spawn_local(async move {
            loop {
                if let Ok(u) = net::api::<Usage>(&api::me()).await
                    && let Some(line) = document().query_selector(".usage").ok().flatten()
                {
                    line.set_text_content(Some(&messages::usage(&u)));
                }
                let (_, again) = tray.usage.get();
                if !again {
                    break;
                }
                tray.usage.set((true, false));
            }
            tray.usage.set((false, false));
        });
    }
}

/// Uploads one file: checks it is an image, asks the API, then posts it to the bucket.
async fn upload_one(tray: Rc<Tray>, file: File, row: Row) {
    let _ = row.li.remove_attribute("data-done");
    let _ = row.retry.set_attribute("hidden", "");
    let head = net::head_bytes(&file, api::SNIFF_BYTES)
        .await
        .unwrap_or_default();
    if !api::looks_like_a_photo(&head) {
        say(
            &row.line,
            "Not a photo: only JPEG, PNG, WebP and HEIC files can be uploaded.",
            true,
        );
        return tray.finished(&row, false);
    }
    let fail = |e: &ApiError| {
        failed(&row.line, e);
        tray.finished(&row, false);
        if messages::is_retryable(e) {
            let _ = row.retry.remove_attribute("hidden");
            let (tray, file, row2) = (tray.clone(), file.clone(), row.clone());
            let once = Closure::once_into_js(move || {
                // Hidden at once so a double click cannot call this one-shot closure twice.
                let _ = row2.retry.set_attribute("hidden", "");
                row2.retry.set_onclick(None);
                tray.refused.set(tray.refused.get().saturating_sub(1));
                tray.count();
                spawn_local(upload_one(tray, file, row2));
            });
            row.retry.set_onclick(Some(once.unchecked_ref()));
        }
    };
    say(&row.line, "Checking…", false);
    let Ok(sha256) = net::sha256_hex(&file).await else {
        say(&row.line, "This file could not be read.", true);
        return tray.finished(&row, false);
    };
    let intent = UploadIntent {
        file_name: file.name(),
        content_type: api::upload_content_type(&file.name(), &file.type_()),
        size: file.size() as u64,
        sha256,
    };
    let grant = match net::api::<UploadGrant>(&api::create_upload(&intent)).await {
        Ok(grant) => grant,
        Err(e) => return fail(&e),
    };
    say(&row.line, "Uploading…", false);
    let progress_bar = row.bar.clone();
    match net::upload(&grant.upload, &file, move |f| {
        let _ = progress_bar.set_attribute("value", &format!("{f:.3}"));
    })
    .await
    {
        Ok(()) => {
            let _ = row.bar.set_attribute("value", "1");
            say(&row.line, "Uploaded", false);
            tray.finished(&row, true);
            if let Some(w) = wall::current()
                && w.source == Source::Timeline
            {
                w.put(&grant.photo);
            }
            tray.refresh_usage();
        }
        Err(e) => fail(&e),
    }
}

/// The picker and the drop hint of the timeline (a drop anywhere on the page uploads).
pub(super) fn picker() -> El {
    let input = el("input")
        .attr("type", "file")
        .attr("multiple", "")
        .attr("accept", api::ACCEPTED_FILES);
    let picker_el = input.input();
    let input = input.on("change", move |_| {
        start_uploads(files_of(picker_el.files()));
        picker_el.set_value("");
    });
    el("div")
        .class("drop")
        .child(
            el("label")
                .class("upload")
                .text("Upload photos")
                .child(input),
        )
        .child(
            el("p")
                .class("notice")
                .text("or drop them anywhere on the page: JPEG, PNG, WebP or HEIC"),
        )
}

/// The files of a picker or a drop.
pub fn files_of(list: Option<web_sys::FileList>) -> Vec<File> {
    let Some(list) = list else { return Vec::new() };
    (0..list.length()).filter_map(|i| list.get(i)).collect()
}

/// Uploads files dropped anywhere on the page.
pub fn dropped(files: Vec<File>) {
    start_uploads(files);
}
