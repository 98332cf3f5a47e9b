//! The pages: sign-in and account flows, gallery with uploads, viewer, albums, share links
//! and the public share page.

use std::cell::RefCell;
use std::rc::Rc;

use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;
use wasm_bindgen_futures::spawn_local;
use web_sys::{
    Element, Event, File, FileList, HtmlSelectElement, IntersectionObserver,
    IntersectionObserverEntry, KeyboardEvent, TouchEvent,
};

use super::dom::{self, El, button, document, el, field, link, listen, say, window};
use super::{go, net, query_param, session};
use crate::api::{
    self, Album, AlbumList, ApiError, Cursor, NewShare, Photo, PhotoPage, PhotoPatch, PhotoStatus,
    PublicShare, Share, ShareKind, ShareList, UploadGrant, UploadIntent,
};
use crate::cognito::{self, AuthOutcome, CognitoError};
use crate::messages;
use crate::route::Route;

/// How many albums or share links a list page asks for (the API's maximum page).
const LIST_LIMIT: u32 = 100;

thread_local! {
    /// Photo ids of the last gallery or album shown, in order: the viewer's previous and next.
    static BROWSED: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
}

pub fn render(route: &Route, main: &Element) {
    let page = match route {
        Route::SignIn => sign_in(),
        Route::SignUp => sign_up(),
        Route::Confirm => confirm(),
        Route::Reset => reset(),
        Route::Gallery => gallery(),
        Route::Photo(id) => viewer(id.clone()),
        Route::Albums => albums(),
        Route::Album(id) => album(id.clone()),
        Route::Shares => shares(),
        Route::PublicShare(token) => public_share(token.clone()),
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

fn value(input: &web_sys::HtmlInputElement) -> String {
    input.value().trim().to_owned()
}

fn cognito_failed(line: &Element, e: &CognitoError) {
    say(line, &e.user_message(), true);
}

fn client_id() -> String {
    session::config().user_pool_client_id
}

// ---------------------------------------------------------------- account pages

fn sign_in() -> El {
    let (email_l, email) = field("E-mail", "email", "email");
    let (pw_l, pw) = field("Password", "password", "password");
    let _ = email.set_attribute("autocomplete", "username");
    let _ = pw.set_attribute("autocomplete", "current-password");
    let line = status();
    let line_el = line.element();
    form(move || {
        let (email_v, pw_v, line) = (value(&email), pw.value(), line_el.clone());
        say(&line, "Signing in…", false);
        spawn_local(async move {
            match net::cognito(cognito::sign_in(&client_id(), &email_v, &pw_v)).await.and_then(|b| cognito::parse_auth(&b)) {
                Ok(AuthOutcome::Tokens(tokens)) => {
                    session::accept(tokens);
                    go("/");
                }
                Ok(AuthOutcome::Challenge(c)) => say(&line, &format!("This account needs a step the app does not support (`{c}`); contact support."), true),
                Err(e) if e.kind == "UserNotConfirmedException" => go(&format!("/confirm?email={}", api::encode(&email_v))),
                Err(e) => cognito_failed(&line, &e),
            }
        });
    })
    .class("card")
    .child(el("h1").text("Sign in"))
    .child(email_l)
    .child(pw_l)
    .child(el("button").attr("type", "submit").text("Sign in"))
    .child(line)
    .child(link("/reset", "Forgot your password?"))
    .child(link("/signup", "Create an account"))
}

fn sign_up() -> El {
    let (email_l, email) = field("E-mail", "email", "email");
    let (pw_l, pw) = field("Password", "password", "password");
    let _ = pw.set_attribute("autocomplete", "new-password");
    let _ = pw.set_attribute("minlength", "8");
    let line = status();
    let line_el = line.element();
    form(move || {
        let (email_v, pw_v, line) = (value(&email), pw.value(), line_el.clone());
        say(&line, "Creating your account…", false);
        spawn_local(async move {
            match net::cognito(cognito::sign_up(&client_id(), &email_v, &pw_v)).await {
                Ok(_) => go(&format!("/confirm?email={}", api::encode(&email_v))),
                Err(e) => cognito_failed(&line, &e),
            }
        });
    })
    .class("card")
    .child(el("h1").text("Create an account"))
    .child(email_l)
    .child(pw_l)
    .child(el("button").attr("type", "submit").text("Create account"))
    .child(line)
    .child(link("/signin", "I already have an account"))
}

fn confirm() -> El {
    let (email_l, email) = field("E-mail", "email", "email");
    email.set_value(&query_param("email").unwrap_or_default());
    let (code_l, code) = field("Code from the e-mail", "text", "code");
    let _ = code.set_attribute("inputmode", "numeric");
    let _ = code.set_attribute("autocomplete", "one-time-code");
    let line = status();
    let (line_a, line_b) = (line.element(), line.element());
    let email_b = email.clone();
    form(move || {
        let (email_v, code_v, line) = (value(&email), value(&code), line_a.clone());
        spawn_local(async move {
            match net::cognito(cognito::confirm_sign_up(&client_id(), &email_v, &code_v)).await {
                Ok(_) => {
                    go("/signin");
                }
                Err(e) => cognito_failed(&line, &e),
            }
        });
    })
    .class("card")
    .child(el("h1").text("Confirm your account"))
    .child(el("p").text("We e-mailed you a code. Enter it here to finish creating your account."))
    .child(email_l)
    .child(code_l)
    .child(el("button").attr("type", "submit").text("Confirm"))
    .child(
        button("Send a new code")
            .class("secondary")
            .on("click", move |_| {
                let (email_v, line) = (value(&email_b), line_b.clone());
                spawn_local(async move {
                    match net::cognito(cognito::resend_confirmation_code(&client_id(), &email_v))
                        .await
                    {
                        Ok(_) => say(&line, "A new code is on its way.", false),
                        Err(e) => cognito_failed(&line, &e),
                    }
                });
            }),
    )
    .child(line)
}

fn reset() -> El {
    let (email_l, email) = field("E-mail", "email", "email");
    let (code_l, code) = field("Code from the e-mail", "text", "code");
    let (pw_l, pw) = field("New password", "password", "password");
    let _ = pw.set_attribute("autocomplete", "new-password");
    // Required only once shown: a hidden required field would block the first step's submit.
    let _ = code.remove_attribute("required");
    let _ = pw.remove_attribute("required");
    let (code_r, pw_r) = (code.clone(), pw.clone());
    let step2 = el("div").attr("hidden", "").child(code_l).child(pw_l);
    let step2_el = step2.element();
    let line = status();
    let line_el = line.element();
    let asked = Rc::new(RefCell::new(false));
    form(move || {
        let (email_v, line, step2) = (value(&email), line_el.clone(), step2_el.clone());
        let (code_r, pw_r) = (code_r.clone(), pw_r.clone());
        let asked = asked.clone();
        if !*asked.borrow() {
            spawn_local(async move {
                match net::cognito(cognito::forgot_password(&client_id(), &email_v)).await {
                    Ok(_) => {
                        *asked.borrow_mut() = true;
                        let _ = step2.remove_attribute("hidden");
                        let _ = code_r.set_attribute("required", "");
                        let _ = pw_r.set_attribute("required", "");
                        say(
                            &line,
                            "We e-mailed you a code: enter it with your new password.",
                            false,
                        );
                    }
                    Err(e) => cognito_failed(&line, &e),
                }
            });
        } else {
            let (code_v, pw_v) = (value(&code), pw.value());
            spawn_local(async move {
                match net::cognito(cognito::confirm_forgot_password(
                    &client_id(),
                    &email_v,
                    &code_v,
                    &pw_v,
                ))
                .await
                {
                    Ok(_) => go("/signin"),
                    Err(e) => cognito_failed(&line, &e),
                }
            });
        }
    })
    .class("card")
    .child(el("h1").text("Reset your password"))
    .child(email_l)
    .child(step2)
    .child(el("button").attr("type", "submit").text("Continue"))
    .child(line)
    .child(link("/signin", "Back to sign in"))
}

// ---------------------------------------------------------------- photos

/// A grid tile for a photo. A pending photo shows a placeholder and polls the API with
/// backoff until it is processed, then replaces itself with the thumbnail.
fn tile(photo: &Photo) -> El {
    let a = link(&Route::Photo(photo.id.clone()).path(), "")
        .class("tile")
        .attr("aria-label", photo.display_name());
    let a = match (photo.status, &photo.thumbnail_url) {
        (PhotoStatus::Ready, Some(url)) => a.child(
            el("img")
                .attr("src", url)
                .attr("loading", "lazy")
                .attr("alt", photo.display_name()),
        ),
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

/// A paginated photo listing with "load more" on scroll (and a button, for keyboards).
fn photo_grid(
    request: impl Fn(&Cursor) -> Option<api::ApiRequest> + 'static,
    decorate: impl Fn(&Photo, El) -> El + 'static,
) -> (El, El) {
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
    let state = Rc::new(RefCell::new((Cursor::Start, false)));
    let observer_slot: Rc<RefCell<Option<IntersectionObserver>>> = Rc::default();
    let load: Rc<dyn Fn()> = {
        let (grid, more, line) = (grid.element(), more.element(), line.element());
        let (slot, sentinel) = (observer_slot.clone(), sentinel.element());
        let decorate = Rc::new(decorate);
        Rc::new(move || {
            let Some(req) = ({
                let s = state.borrow();
                if s.1 { None } else { request(&s.0) }
            }) else {
                return;
            };
            state.borrow_mut().1 = true;
            let (state, grid, more, line, decorate, slot, sentinel) = (
                state.clone(),
                grid.clone(),
                more.clone(),
                line.clone(),
                decorate.clone(),
                slot.clone(),
                sentinel.clone(),
            );
            spawn_local(async move {
                match net::api::<PhotoPage>(&req).await {
                    Ok(page) => {
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
                        say(&line, &messages::api_error(&e), true);
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

fn files_of(list: Option<FileList>) -> Vec<File> {
    let Some(list) = list else { return Vec::new() };
    (0..list.length()).filter_map(|i| list.get(i)).collect()
}

fn gallery() -> El {
    let uploads = el("ul").class("uploads").attr("aria-label", "Uploads");
    let (section, grid) = photo_grid(|c| api::list_photos(c, api::PAGE_SIZE), |_, t| t);
    let picker = el("input")
        .attr("type", "file")
        .attr("multiple", "")
        .attr("accept", "image/jpeg,image/png,image/webp");
    let (uploads_a, grid_a, picker_el) = (uploads.element(), grid.element(), picker.input());
    let picker = picker.on("change", move |_| {
        start_uploads(files_of(picker_el.files()), &uploads_a, &grid_a);
        picker_el.set_value("");
    });
    let (uploads_b, grid_b) = (uploads.element(), grid.element());
    let drop = el("div").class("drop");
    let (d1, d2, d3) = (drop.element(), drop.element(), drop.element());
    let drop = drop
        .on("dragover", move |e| {
            e.prevent_default();
            let _ = d1.class_list().add_1("over");
        })
        .on("dragleave", move |_| {
            let _ = d2.class_list().remove_1("over");
        })
        .on("drop", move |e| {
            e.prevent_default();
            let _ = d3.class_list().remove_1("over");
            let files = e
                .dyn_ref::<web_sys::DragEvent>()
                .and_then(|d| d.data_transfer())
                .and_then(|t| t.files());
            start_uploads(files_of(files), &uploads_b, &grid_b);
        })
        .child(
            el("label")
                .class("upload")
                .text("Upload photos")
                .child(picker),
        )
        .child(
            el("p")
                .class("notice")
                .text("or drop them here: JPEG, PNG or WebP"),
        );
    let usage = el("p").class("notice usage");
    let usage_el = usage.element();
    spawn_local(async move {
        if let Ok(u) = net::api::<api::Usage>(&api::me()).await {
            usage_el.set_text_content(Some(&messages::usage(&u)));
        }
    });
    el("section")
        .child(
            el("div")
                .class("title")
                .child(el("h1").text("Your photos"))
                .child(usage),
        )
        .child(drop)
        .child(uploads)
        .child(section)
}

/// How many files upload at the same time; the rest wait their turn in the list.
const PARALLEL_UPLOADS: usize = 3;

type UploadJob = (File, Element, Element, web_sys::HtmlElement, Element);

/// Queues uploads, each with its own row and progress bar, and runs a few at a time.
fn start_uploads(files: Vec<File>, list: &Element, grid: &Element) {
    let jobs: std::collections::VecDeque<UploadJob> = files
        .into_iter()
        .map(|file| {
            let line = el("span").text("Waiting…");
            let bar = el("progress")
                .attr("max", "1")
                .attr("value", "0")
                .attr("aria-label", &format!("Upload of {}", file.name()));
            let retry = button("Retry").class("secondary").attr("hidden", "");
            let row = el("li")
                .child(el("span").text(&file.name()))
                .child(line.clone())
                .child(bar.clone())
                .child(retry.clone());
            let _ = list.append_child(&row.0);
            (
                file,
                line.element(),
                bar.element(),
                retry.html(),
                grid.clone(),
            )
        })
        .collect();
    let queue = Rc::new(RefCell::new(jobs));
    for _ in 0..PARALLEL_UPLOADS {
        let queue = queue.clone();
        spawn_local(async move {
            loop {
                let job = queue.borrow_mut().pop_front();
                let Some((file, line, bar, retry, grid)) = job else {
                    return;
                };
                upload_one(file, line, bar, retry, grid).await;
            }
        });
    }
}

async fn upload_one(
    file: File,
    line: Element,
    bar: Element,
    retry: web_sys::HtmlElement,
    grid: Element,
) {
    let _ = retry.set_attribute("hidden", "");
    let fail = |e: &ApiError| {
        say(&line, &messages::api_error(e), true);
        if messages::is_retryable(e) {
            let _ = retry.remove_attribute("hidden");
            let (file, line, bar, r, grid) = (
                file.clone(),
                line.clone(),
                bar.clone(),
                retry.clone(),
                grid.clone(),
            );
            let once = Closure::once_into_js(move || {
                // Hidden at once so a double click cannot call this one-shot closure twice.
                let _ = r.set_attribute("hidden", "");
                r.set_onclick(None);
                spawn_local(upload_one(file, line, bar, r, grid));
            });
            retry.set_onclick(Some(once.unchecked_ref()));
        }
    };
    say(&line, "Checking…", false);
    let Ok(sha256) = net::sha256_hex(&file).await else {
        fail(&ApiError {
            code: "unreadable".into(),
            message: String::new(),
        });
        say(&line, "This file could not be read.", true);
        return;
    };
    let intent = UploadIntent {
        file_name: file.name(),
        content_type: file.type_(),
        size: file.size() as u64,
        sha256,
    };
    let grant = match net::api::<UploadGrant>(&api::create_upload(&intent)).await {
        Ok(grant) => grant,
        Err(e) => return fail(&e),
    };
    say(&line, "Uploading…", false);
    let progress_bar = bar.clone();
    match net::upload(&grant.upload, &file, move |f| {
        let _ = progress_bar.set_attribute("value", &format!("{f:.3}"));
    })
    .await
    {
        Ok(()) => {
            let _ = bar.set_attribute("value", "1");
            say(&line, "Uploaded", false);
            let _ = grid.prepend_with_node_1(&tile(&grant.photo).0);
        }
        Err(e) => fail(&e),
    }
}

fn viewer(id: String) -> El {
    let section = el("section").child(el("p").class("loading").text("Loading…"));
    let target = section.element();
    spawn_local(async move {
        match net::api::<Photo>(&api::get_photo(&id)).await {
            Ok(photo) => dom::replace_children(&target, &viewer_body(photo)),
            Err(e) => dom::replace_children(
                &target,
                &el("p")
                    .class("error")
                    .attr("role", "alert")
                    .text(&messages::api_error(&e)),
            ),
        }
    });
    section
}

fn neighbours(id: &str) -> (Option<String>, Option<String>) {
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

fn viewer_body(photo: Photo) -> El {
    let (prev, next) = neighbours(&photo.id);
    let image = match photo.preview_url.as_ref().or(photo.thumbnail_url.as_ref()) {
        Some(url) => el("img").attr("src", url).attr("alt", photo.display_name()),
        None => el("p")
            .class("notice")
            .text(if photo.status == PhotoStatus::Failed {
                "This photo could not be processed."
            } else {
                "This photo is still being processed."
            }),
    };
    let figure = el("figure").child(image);
    // Swipe left or right on the picture for the next or previous photo.
    let start_x = Rc::new(RefCell::new(None::<i32>));
    let (sx1, sx2) = (start_x.clone(), start_x);
    let (p1, n1) = (prev.clone(), next.clone());
    let figure = figure
        .on("touchstart", move |e| {
            *sx1.borrow_mut() = e
                .dyn_ref::<TouchEvent>()
                .and_then(|t| t.changed_touches().get(0))
                .map(|t| t.client_x());
        })
        .on("touchend", move |e| {
            let end = e
                .dyn_ref::<TouchEvent>()
                .and_then(|t| t.changed_touches().get(0))
                .map(|t| t.client_x());
            if let (Some(s), Some(end)) = (sx2.borrow_mut().take(), end) {
                let target = if end - s > 60 {
                    p1.clone()
                } else if s - end > 60 {
                    n1.clone()
                } else {
                    None
                };
                if let Some(id) = target {
                    go(&Route::Photo(id).path());
                }
            }
        });
    let (p2, n2) = (prev.clone(), next.clone());
    listen(&document(), "keydown", move |e| {
        let Some(k) = e.dyn_ref::<KeyboardEvent>() else {
            return;
        };
        let typing = e
            .target()
            .and_then(|t| t.dyn_into::<Element>().ok())
            .is_some_and(|t| matches!(t.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT"));
        if typing {
            return;
        }
        let target = match k.key().as_str() {
            "ArrowLeft" => p2.clone().map(|id| Route::Photo(id).path()),
            "ArrowRight" => n2.clone().map(|id| Route::Photo(id).path()),
            "Escape" => Some("/".to_owned()),
            _ => None,
        };
        if let Some(href) = target {
            go(&href);
        }
    });
    let nav = el("div")
        .class("row")
        .child(match &prev {
            Some(id) => link(&Route::Photo(id.clone()).path(), "← Previous"),
            None => el("span"),
        })
        .child(match &next {
            Some(id) => link(&Route::Photo(id.clone()).path(), "Next →"),
            None => el("span"),
        });

    let line = status();
    let (title_l, title) = field("Title", "text", "title");
    let _ = title.remove_attribute("required");
    title.set_value(&photo.title);
    let heading = el("h1").text(photo.display_name());
    let (id1, line1, h1) = (photo.id.clone(), line.element(), heading.element());
    let title_form = form(move || {
        let (id, line, heading, patch) = (
            id1.clone(),
            line1.clone(),
            h1.clone(),
            PhotoPatch::title(&title.value()),
        );
        spawn_local(async move {
            match net::api::<Photo>(&api::update_photo(&id, &patch)).await {
                Ok(photo) => {
                    heading.set_text_content(Some(photo.display_name()));
                    say(&line, "Saved.", false);
                }
                Err(e) => say(&line, &messages::api_error(&e), true),
            }
        });
    })
    .child(title_l)
    .child(el("button").attr("type", "submit").text("Save title"));

    let fav = Rc::new(RefCell::new(photo.favourite));
    let fav_button = button(if photo.favourite {
        "★ Favourite"
    } else {
        "☆ Favourite"
    })
    .class("secondary")
    .attr(
        "aria-pressed",
        if photo.favourite { "true" } else { "false" },
    );
    let (fb, id2, line2) = (fav_button.element(), photo.id.clone(), line.element());
    let fav_button = fav_button.on("click", move |_| {
        let want = !*fav.borrow();
        let (fb, id, line, fav) = (fb.clone(), id2.clone(), line2.clone(), fav.clone());
        spawn_local(async move {
            match net::api_text(&api::update_photo(&id, &PhotoPatch::favourite(want))).await {
                Ok(_) => {
                    *fav.borrow_mut() = want;
                    fb.set_text_content(Some(if want {
                        "★ Favourite"
                    } else {
                        "☆ Favourite"
                    }));
                    let _ = fb.set_attribute("aria-pressed", if want { "true" } else { "false" });
                }
                Err(e) => say(&line, &messages::api_error(&e), true),
            }
        });
    });

    let (id3, line3) = (photo.id.clone(), line.element());
    let delete = button("Delete").class("danger").on("click", move |_| {
        if !window()
            .confirm_with_message("Delete this photo? This cannot be undone.")
            .unwrap_or(false)
        {
            return;
        }
        let (id, line) = (id3.clone(), line3.clone());
        spawn_local(async move {
            match net::api_text(&api::delete_photo(&id)).await {
                Ok(_) => go("/"),
                Err(e) => say(&line, &messages::api_error(&e), true),
            }
        });
    });

    let mut meta = vec![
        ("File", photo.file_name.clone()),
        ("Type", photo.content_type.clone()),
        ("Size", messages::bytes(photo.size)),
        ("Uploaded", messages::day(&photo.created_at)),
    ];
    if let Some(d) = photo.dimensions {
        meta.push(("Dimensions", format!("{} × {}", d.width, d.height)));
    }
    if let Some(t) = &photo.taken_at {
        meta.push(("Taken", messages::day(t)));
    }
    if let Some(c) = &photo.camera {
        meta.push(("Camera", c.clone()));
    }
    if let Some(reason) = &photo.failure_reason {
        meta.push(("Problem", reason.clone()));
    }
    let dl = el("dl").children(
        meta.into_iter()
            .filter(|(_, v)| !v.is_empty())
            .flat_map(|(k, v)| [el("dt").text(k), el("dd").text(&v)]),
    );
    let download = match &photo.original_url {
        Some(url) => el("a")
            .attr("href", url)
            .attr("download", &photo.file_name)
            .text("Download original"),
        None => el("span"),
    };
    let aside = el("aside")
        .child(heading)
        .child(title_form)
        .child(
            el("div")
                .class("row")
                .child(fav_button)
                .child(download)
                .child(delete),
        )
        .child(line)
        .child(dl)
        .child(add_to_album(photo.id.clone()))
        .child(share_form(ShareKind::Photo, photo.id.clone()));
    el("div")
        .child(nav)
        .child(el("div").class("viewer").child(figure).child(aside))
}

fn add_to_album(photo_id: String) -> El {
    let select = el("select").attr("aria-label", "Album");
    let select_el: HtmlSelectElement = select.element().unchecked_into();
    let line = status();
    let (s, line_a) = (select.element(), line.element());
    spawn_local(async move {
        let Some(req) = api::list_albums(&Cursor::Start, LIST_LIMIT) else {
            return;
        };
        match net::api::<AlbumList>(&req).await {
            Ok(list) => {
                for a in list.albums {
                    let _ = s.append_child(&el("option").attr("value", &a.id).text(&a.name).0);
                }
            }
            Err(e) => say(&line_a, &messages::api_error(&e), true),
        }
    });
    let line_b = line.element();
    let add = button("Add to album")
        .class("secondary")
        .on("click", move |_| {
            let (album, photo, line) = (select_el.value(), photo_id.clone(), line_b.clone());
            if album.is_empty() {
                say(&line, "Create an album first, on the Albums page.", true);
                return;
            }
            spawn_local(async move {
                match net::api_text(&api::add_to_album(&album, &photo)).await {
                    Ok(_) => say(&line, "Added to the album.", false),
                    Err(e) => say(&line, &messages::api_error(&e), true),
                }
            });
        });
    el("div")
        .child(el("div").class("row").child(select).child(add))
        .child(line)
}

// ---------------------------------------------------------------- sharing

fn share_form(kind: ShareKind, target_id: String) -> El {
    let expiry = el("select")
        .attr("aria-label", "Link expires after")
        .children(
            [("1", "1 day"), ("7", "7 days"), ("30", "30 days")]
                .map(|(v, t)| el("option").attr("value", v).text(t)),
        );
    expiry
        .element()
        .unchecked_ref::<HtmlSelectElement>()
        .set_value("7");
    let expiry_el: HtmlSelectElement = expiry.element().unchecked_into();
    let (pw_l, pw) = field("Password (optional)", "password", "share-password");
    let _ = pw.remove_attribute("required");
    let _ = pw.set_attribute("autocomplete", "new-password");
    let result = el("div");
    let result_el = result.element();
    let line = status();
    let line_el = line.element();
    form(move || {
        let share = NewShare::new(
            kind,
            &target_id,
            expiry_el.value().parse().unwrap_or(7),
            &pw.value(),
        );
        let (result, line) = (result_el.clone(), line_el.clone());
        spawn_local(async move {
            match net::api::<Share>(&api::create_share(&share)).await {
                Ok(s) => {
                    say(&line, "", false);
                    dom::replace_children(&result, &link_box(&s.token));
                }
                Err(e) => say(&line, &messages::api_error(&e), true),
            }
        });
    })
    .child(el("h2").text("Share"))
    .child(el("label").text("Expires after").child(expiry))
    .child(pw_l)
    .child(el("button").attr("type", "submit").text("Create link"))
    .child(line)
    .child(result)
}

/// A read-only share link with a copy button.
fn link_box(token: &str) -> El {
    let origin = window().location().origin().unwrap_or_default();
    let url = api::share_link(&origin, token);
    let input = el("input")
        .attr("type", "text")
        .attr("readonly", "")
        .attr("aria-label", "Share link")
        .attr("value", &url);
    let line = el("span").attr("aria-live", "polite");
    let line_el = line.element();
    let copy = button("Copy link")
        .class("secondary")
        .on("click", move |_| {
            let (url, line) = (url.clone(), line_el.clone());
            spawn_local(async move {
                let ok = net::copy(&url).await;
                line.set_text_content(Some(if ok {
                    "Copied."
                } else {
                    "Copy failed: select the link and copy it."
                }));
            });
        });
    el("div").class("row").child(input).child(copy).child(line)
}

fn shares() -> El {
    let body = el("tbody");
    let line = status();
    let (b, l) = (body.element(), line.element());
    spawn_local(async move {
        let Some(req) = api::list_shares(&Cursor::Start, LIST_LIMIT) else {
            return;
        };
        match net::api::<ShareList>(&req).await {
            Ok(list) if list.shares.iter().all(|s| s.revoked) => {
                say(&l, "You have no shared links.", false)
            }
            Ok(list) => {
                // A revoked link can never work again: there is nothing left to do with it.
                for s in list.shares.into_iter().filter(|s| !s.revoked) {
                    let _ = b.append_child(&share_row(s, l.clone()).0);
                }
            }
            Err(e) => say(&l, &messages::api_error(&e), true),
        }
    });
    el("section")
        .child(el("h1").text("Shared links"))
        .child(line)
        .child(
            el("table")
                .child(el("thead").child(el("tr").children(
                    ["What", "Expires", "Password", "Link", ""].map(|h| el("th").text(h)),
                )))
                .child(body),
        )
}

fn share_row(share: Share, line: Element) -> El {
    let what = match share.kind {
        ShareKind::Photo => link(&Route::Photo(share.target_id.clone()).path(), "Photo"),
        ShareKind::Album => link(&Route::Album(share.target_id.clone()).path(), "Album"),
    };
    let row = el("tr");
    let row_el = row.element();
    let token = share.token.clone();
    let revoke = button("Revoke").class("danger").on("click", move |_| {
        if !window()
            .confirm_with_message("Revoke this link? Anyone using it will lose access.")
            .unwrap_or(false)
        {
            return;
        }
        let (token, row, line) = (token.clone(), row_el.clone(), line.clone());
        spawn_local(async move {
            match net::api_text(&api::revoke_share(&token)).await {
                Ok(_) => {
                    let body = row.parent_element();
                    row.remove();
                    if body.is_some_and(|b| b.child_element_count() == 0) {
                        say(&line, "You have no shared links.", false);
                    }
                }
                Err(e) => say(&line, &messages::api_error(&e), true),
            }
        });
    });
    row.child(el("td").child(what))
        .child(el("td").text(&messages::day(&share.expires_at)))
        .child(el("td").text(if share.has_password { "yes" } else { "no" }))
        .child(el("td").child(link_box(&share.token)))
        .child(el("td").child(revoke))
}

fn public_share(token: String) -> El {
    let section = el("section").child(el("p").class("loading").text("Loading…"));
    let target = section.element();
    open_share(token, None, target);
    section
}

fn open_share(token: String, password: Option<String>, target: Element) {
    spawn_local(async move {
        match net::api::<PublicShare>(&api::open_public_share(&token, password.as_deref())).await {
            Ok(share) => dom::replace_children(&target, &public_body(&share)),
            Err(e)
                if matches!(
                    e.code.as_str(),
                    "password_required" | "wrong_password" | "http_401"
                ) =>
            {
                let (pw_l, pw) = field("Password", "password", "password");
                let line = status();
                if password.is_some() {
                    say(
                        &line.element(),
                        &messages::api_error(&ApiError {
                            code: "wrong_password".into(),
                            message: String::new(),
                        }),
                        true,
                    );
                }
                let t = target.clone();
                let f = form(move || open_share(token.clone(), Some(pw.value()), t.clone()))
                    .class("card")
                    .child(el("h1").text("This link is protected"))
                    .child(pw_l)
                    .child(el("button").attr("type", "submit").text("Open"))
                    .child(line);
                dom::replace_children(&target, &f);
            }
            Err(e) => dom::replace_children(
                &target,
                &el("p")
                    .class("error")
                    .attr("role", "alert")
                    .text(&messages::api_error(&e)),
            ),
        }
    });
}

fn public_body(share: &PublicShare) -> El {
    let title = if share.album_name.is_empty() {
        "Shared photos"
    } else {
        &share.album_name
    };
    let figures = share.photos.iter().map(|p| {
        let img = match p.preview_url.as_ref().or(p.thumbnail_url.as_ref()) {
            Some(url) => el("img")
                .attr("src", url)
                .attr("loading", "lazy")
                .attr("alt", p.display_name()),
            None => el("span").class("pending").text("Processing…"),
        };
        let dl = match &p.original_url {
            Some(url) => el("a")
                .attr("href", url)
                .attr("download", &p.file_name)
                .text("Download"),
            None => el("span"),
        };
        // A shared photo has no file name; its id means nothing to a visitor, so the caption
        // is the title and the day it was taken, when known.
        let mut caption = p.title.trim().to_owned();
        if let Some(t) = &p.taken_at {
            let taken = messages::day(t);
            caption = if caption.is_empty() {
                taken
            } else {
                format!("{caption} · {taken}")
            };
        }
        el("figure")
            .child(img)
            .child(el("figcaption").child(el("span").text(&caption)).child(dl))
    });
    let expires = if share.expires_at.is_empty() {
        String::new()
    } else {
        format!(
            "This link works until {}.",
            messages::day(&share.expires_at)
        )
    };
    let empty = if share.photos.is_empty() {
        el("p")
            .class("notice")
            .text("There are no photos to show here yet.")
    } else {
        el("span")
    };
    el("section")
        .child(el("h1").text(title))
        .child(el("p").class("notice").text(&expires))
        .child(empty)
        .child(el("div").class("public").children(figures))
}

// ---------------------------------------------------------------- albums

fn albums() -> El {
    let (name_l, name) = field("New album", "text", "name");
    let line = status();
    let list = el("ul");
    let (l1, l2, ul) = (line.element(), line.element(), list.element());
    let create = form(move || {
        let (n, line) = (value(&name), l1.clone());
        spawn_local(async move {
            match net::api::<Album>(&api::create_album(&n)).await {
                Ok(a) => go(&Route::Album(a.id).path()),
                Err(e) => say(&line, &messages::api_error(&e), true),
            }
        });
    })
    .class("row")
    .child(name_l)
    .child(el("button").attr("type", "submit").text("Create"));
    spawn_local(async move {
        let Some(req) = api::list_albums(&Cursor::Start, LIST_LIMIT) else {
            return;
        };
        match net::api::<AlbumList>(&req).await {
            Ok(list) if list.albums.is_empty() => say(&l2, "No albums yet.", false),
            Ok(list) => {
                for a in list.albums {
                    let _ = ul
                        .append_child(&el("li").child(link(&Route::Album(a.id).path(), &a.name)).0);
                }
            }
            Err(e) => say(&l2, &messages::api_error(&e), true),
        }
    });
    el("section")
        .child(el("h1").text("Albums"))
        .child(create)
        .child(line)
        .child(list)
}

fn album(id: String) -> El {
    let section = el("section").child(el("p").class("loading").text("Loading…"));
    let target = section.element();
    spawn_local(async move {
        match net::api::<Album>(&api::get_album(&id)).await {
            Ok(a) => dom::replace_children(&target, &album_body(a)),
            Err(e) => dom::replace_children(
                &target,
                &el("p")
                    .class("error")
                    .attr("role", "alert")
                    .text(&messages::api_error(&e)),
            ),
        }
    });
    section
}

fn album_body(album: Album) -> El {
    let heading = el("h1").text(&album.name);
    let line = status();
    let (name_l, name) = field("Name", "text", "name");
    name.set_value(&album.name);
    let (id1, h, l1) = (album.id.clone(), heading.element(), line.element());
    let rename = form(move || {
        let (id, n, h, line) = (id1.clone(), value(&name), h.clone(), l1.clone());
        spawn_local(async move {
            match net::api_text(&api::rename_album(&id, &n)).await {
                Ok(_) => {
                    h.set_text_content(Some(&n));
                    say(&line, "Renamed.", false);
                }
                Err(e) => say(&line, &messages::api_error(&e), true),
            }
        });
    })
    .class("row")
    .child(name_l)
    .child(el("button").attr("type", "submit").text("Rename"));
    let (id2, l2) = (album.id.clone(), line.element());
    let delete = button("Delete album")
        .class("danger")
        .on("click", move |_| {
            if !window()
                .confirm_with_message("Delete this album? Its photos are kept.")
                .unwrap_or(false)
            {
                return;
            }
            let (id, line) = (id2.clone(), l2.clone());
            spawn_local(async move {
                match net::api_text(&api::delete_album(&id)).await {
                    Ok(_) => go("/albums"),
                    Err(e) => say(&line, &messages::api_error(&e), true),
                }
            });
        });
    let album_id = album.id.clone();
    let share_id = album.id.clone();
    let l3 = line.element();
    let (grid, _) = photo_grid(
        move |c| api::list_album_photos(&album_id, c, api::PAGE_SIZE),
        move |p, t| {
            let wrapper = el("div").child(t);
            let (aid, pid, w, line) = (
                album.id.clone(),
                p.id.clone(),
                wrapper.element(),
                l3.clone(),
            );
            wrapper.child(
                button("Remove")
                    .class("secondary")
                    .attr(
                        "aria-label",
                        &format!("Remove {} from the album", p.display_name()),
                    )
                    .on("click", move |_| {
                        let (aid, pid, w, line) =
                            (aid.clone(), pid.clone(), w.clone(), line.clone());
                        spawn_local(async move {
                            match net::api_text(&api::remove_from_album(&aid, &pid)).await {
                                Ok(_) => w.remove(),
                                Err(e) => say(&line, &messages::api_error(&e), true),
                            }
                        });
                    }),
            )
        },
    );
    el("section")
        .child(heading)
        .child(link("/albums", "← All albums"))
        .child(rename)
        .child(el("div").class("row").child(delete))
        .child(line)
        .child(grid)
        .child(share_form(ShareKind::Album, share_id))
}
