//! The photo viewer: the picture with previous and next (links, arrow keys, swipes), and
//! beside it the title, favourite, download, delete, details, albums and sharing.

use std::cell::RefCell;
use std::rc::Rc;

use wasm_bindgen::JsCast;
use web_sys::{Element, KeyboardEvent, TouchEvent};

use super::albums::add_to_album;
use super::grid::neighbours;
use super::shares::share_form;
use super::{confirmed, form, loaded, send, send_text, status, submit};
use crate::api::{self, Photo, PhotoPatch, PhotoStatus, ShareKind};
use crate::messages;
use crate::route::Route;
use crate::web::dom::{El, button, document, el, field, link, listen, say};
use crate::web::{go, net, renew};

pub(super) fn viewer(id: String) -> El {
    loaded(api::get_photo(&id), viewer_body)
}

/// The link of the picture the viewer shows: the preview, else the thumbnail.
fn shown(photo: &Photo) -> Option<&String> {
    photo.preview_url.as_ref().or(photo.thumbnail_url.as_ref())
}

/// The favourite button's label and `aria-pressed` value.
fn favourite_state(on: bool) -> (&'static str, &'static str) {
    if on {
        ("★ Favourite", "true")
    } else {
        ("☆ Favourite", "false")
    }
}

fn viewer_body(photo: Photo) -> El {
    let (prev, next) = neighbours(&photo.id);
    let image = match shown(&photo) {
        Some(url) => renew::image(url, &photo.id, photo.display_name()),
        None => el("p")
            .class("notice")
            .text(if photo.status == PhotoStatus::Failed {
                "This photo could not be processed."
            } else {
                "This photo is still being processed."
            }),
    };
    let figure = el("figure").child(image);
    // A viewer left open past its links' lifetime: the picture asks for fresh ones.
    let (figure_el, id0) = (figure.element(), photo.id.clone());
    renew::on_failed_image(&figure.element(), move || {
        let (figure, id) = (figure_el.clone(), id0.clone());
        async move {
            if let Ok(p) = net::api::<Photo>(&api::get_photo(&id)).await
                && let Some(url) = shown(&p)
            {
                renew::swap(&figure, &id, url);
            }
        }
    });
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
        let (line, heading) = (line1.clone(), h1.clone());
        let patch = PhotoPatch::title(&title.value());
        send(
            &line1,
            api::update_photo(&id1, &patch),
            move |photo: Photo| {
                heading.set_text_content(Some(photo.display_name()));
                say(&line, "Saved.", false);
            },
        );
    })
    .child(title_l)
    .child(submit("Save title"));

    let fav = Rc::new(RefCell::new(photo.favourite));
    let (label, pressed) = favourite_state(photo.favourite);
    let fav_button = button(label)
        .class("secondary")
        .attr("aria-pressed", pressed);
    let (fb, id2, line2) = (fav_button.element(), photo.id.clone(), line.element());
    let fav_button = fav_button.on("click", move |_| {
        let want = !*fav.borrow();
        let (fb, fav) = (fb.clone(), fav.clone());
        let patch = PhotoPatch::favourite(want);
        send_text(&line2, api::update_photo(&id2, &patch), move || {
            *fav.borrow_mut() = want;
            let (label, pressed) = favourite_state(want);
            fb.set_text_content(Some(label));
            let _ = fb.set_attribute("aria-pressed", pressed);
        });
    });

    let (id3, line3) = (photo.id.clone(), line.element());
    let delete = button("Delete").class("danger").on("click", move |_| {
        if confirmed("Delete this photo? This cannot be undone.") {
            send_text(&line3, api::delete_photo(&id3), || go("/"));
        }
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
        Some(url) => {
            let id = photo.id.clone();
            renew::download(url, &photo.file_name, "Download original", move || {
                let id = id.clone();
                async move {
                    net::api::<Photo>(&api::get_photo(&id))
                        .await
                        .ok()
                        .and_then(|p| p.original_url)
                }
            })
        }
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
