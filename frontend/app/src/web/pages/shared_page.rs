//! The public page a share link opens, for anyone with the link: a password form when the
//! link has one, then the shared photos, whose links renew themselves while the page is open.

use wasm_bindgen_futures::spawn_local;
use web_sys::Element;

use super::{card, failed, load_error, loading, status, submit};
use crate::api::{self, ApiError, Photo, PublicShare};
use crate::messages;
use crate::web::dom::{self, El, el, field};
use crate::web::{net, renew};

pub(super) fn public_share(token: String) -> El {
    let (section, target) = loading();
    open_share(token, None, target);
    section
}

fn open_share(token: String, password: Option<String>, target: Element) {
    spawn_local(async move {
        match net::api::<PublicShare>(&api::open_public_share(&token, password.as_deref())).await {
            Ok(share) => {
                let body = public_body(&share);
                // The password is kept for the visit: fresh links need no prompt.
                let figures = body.element();
                renew::on_failed_image(&body.element(), move || {
                    let (figures, token, password) =
                        (figures.clone(), token.clone(), password.clone());
                    async move {
                        let request = api::open_public_share(&token, password.as_deref());
                        if let Ok(share) = net::api::<PublicShare>(&request).await {
                            for p in &share.photos {
                                if let Some(url) = shown(p) {
                                    renew::swap(&figures, &p.id, url);
                                }
                            }
                        }
                    }
                });
                dom::replace_children(&target, &body);
            }
            Err(e)
                if matches!(
                    e.code.as_str(),
                    "password_required" | "wrong_password" | "http_401"
                ) =>
            {
                let (pw_l, pw) = field("Password", "password", "password");
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
                .child(pw_l)
                .child(submit("Open"))
                .child(line);
                dom::replace_children(&target, &f);
            }
            Err(e) => dom::replace_children(&target, &load_error(&e)),
        }
    });
}

/// The link of the picture shown for a shared photo: the preview, else the thumbnail.
fn shown(photo: &Photo) -> Option<&String> {
    photo.preview_url.as_ref().or(photo.thumbnail_url.as_ref())
}

fn public_body(share: &PublicShare) -> El {
    let title = if share.album_name.is_empty() {
        "Shared photos"
    } else {
        &share.album_name
    };
    let figures = share.photos.iter().map(|p| {
        let img = match shown(p) {
            Some(url) => renew::lazy_image(url, &p.id, &p.display_name()),
            None => el("span").class("pending").text("Processing…"),
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
            .child(el("figcaption").child(el("span").text(&caption)))
    });
    let mut expires = if share.expires_at.is_empty() {
        String::new()
    } else {
        format!(
            "This link works until {}.",
            messages::day(&share.expires_at)
        )
    };
    if let Some(by) = share.shared_by.as_deref().filter(|b| !b.trim().is_empty()) {
        expires = format!("Shared by {by}. {expires}");
    }
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
