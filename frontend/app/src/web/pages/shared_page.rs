//! The public page a share link opens, for anyone with the link: a password form when the
//! link has one (asked once a visit), then who shared it and until when, and the photos with
//! their captions on the same wall and in the same lightbox as the owner's, with a download
//! when the owner allowed it. Their links renew themselves while the page is open. A link
//! that has expired or was revoked says so, and what to do.

use wasm_bindgen_futures::spawn_local;
use web_sys::Element;

use super::wall::{Shared, Wall};
use super::{card, failed, load_error, loading, status, submit};
use crate::api::{self, ApiError, PublicShare};
use crate::messages;
use crate::web::dom::{self, El, el, field, window};
use crate::web::net;

pub(super) fn public_share(token: String) -> El {
    let (section, target) = loading();
    open_share(token, None, target);
    section
}

/// Where a share's password is kept for the visit (the tab's session storage, gone with it).
fn password_key(token: &str) -> String {
    format!("photos.share.{token}")
}

fn session_storage() -> Option<web_sys::Storage> {
    window().session_storage().ok().flatten()
}

fn open_share(token: String, password: Option<String>, target: Element) {
    // The password given earlier in this visit opens the link without asking again.
    let password = password.or_else(|| {
        session_storage().and_then(|s| s.get_item(&password_key(&token)).ok().flatten())
    });
    spawn_local(async move {
        match net::api::<PublicShare>(&api::open_public_share(&token, password.as_deref())).await {
            // The visitor has gone elsewhere meanwhile: this page is not on screen any more.
            Ok(_) if !target.is_connected() => {}
            Ok(share) => {
                if let (Some(pw), Some(store)) = (&password, session_storage()) {
                    let _ = store.set_item(&password_key(&token), pw);
                }
                let shared = Shared {
                    token,
                    password,
                    allow_download: share.allow_download,
                };
                dom::replace_children(&target, &public_body(shared, &share));
                // A deep link to one of its photos opens it now that the photos are known.
                super::overlay(
                    &crate::route::Route::parse(
                        &window().location().pathname().unwrap_or_default(),
                    ),
                    false,
                );
            }
            Err(e)
                if matches!(
                    e.code.as_str(),
                    "password_required" | "wrong_password" | "http_401"
                ) =>
            {
                if let Some(store) = session_storage() {
                    let _ = store.remove_item(&password_key(&token));
                }
                let (pw_l, pw) = field("Password", "password", "password");
                // Not the account's password: no browser should offer to fill it in here.
                let _ = pw.set_attribute("autocomplete", "off");
                let line = status();
                if password.is_some() {
                    let wrong = ApiError {
                        code: "wrong_password".into(),
                        message: String::new(),
                    };
                    failed(&line.element(), &wrong);
                }
                let t = target.clone();
                let f = card("This link is protected", move || {
                    open_share(token.clone(), Some(pw.value()), t.clone())
                })
                .child(el("p").text("Enter the password the person who shared it gave you."))
                .child(pw_l)
                .child(submit("Open"))
                .child(line);
                dom::replace_children(&target, &f);
            }
            Err(e) => dom::replace_children(&target, &gone(&e)),
        }
    });
}

/// What a link that cannot be opened says, and what to do about it.
fn gone(e: &ApiError) -> El {
    el("div")
        .class("card")
        .child(el("h1").text("This link cannot be opened"))
        .child(load_error(e))
}

fn public_body(shared: Shared, share: &PublicShare) -> El {
    let title = if share.album_name.is_empty() {
        "Shared photos".to_owned()
    } else {
        share.album_name.clone()
    };
    crate::web::set_title(&title);
    let mut about = Vec::new();
    if let Some(by) = share.shared_by.as_deref().filter(|b| !b.trim().is_empty()) {
        about.push(format!("Shared by {by}."));
    }
    about.push(messages::photos(share.photos.len() as u64) + ".");
    if !share.expires_at.is_empty() {
        about.push(format!(
            "This link works until {}.",
            messages::day(&share.expires_at)
        ));
    }
    if share.allow_download {
        about.push("Open a photo to download it.".to_owned());
    }
    let empty = if share.photos.is_empty() {
        el("p")
            .class("notice")
            .text("There are no photos to show here yet.")
    } else {
        el("span")
    };
    let (_, wall) = Wall::shared(shared, &share.photos);
    el("section")
        .class("public")
        .child(el("h1").text(&title))
        .child(el("p").class("notice").text(&about.join(" ")))
        .child(empty)
        .child(wall)
}
