//! Share links: the dialog that makes one for a photo or an album, the link with its copy
//! button, and the page that lists the user's links (what each shares, when it was made and
//! expires, whether it has a password and allows download), each with a revoke button.

use wasm_bindgen::JsCast;
use wasm_bindgen_futures::spawn_local;
use web_sys::{Element, HtmlDialogElement, HtmlSelectElement};

use super::{LIST_LIMIT, confirmed, form, send, send_text, status, submit};
use crate::api::{self, AlbumList, Cursor, NewShare, Photo, Share, ShareKind, ShareList};
use crate::messages;
use crate::route::Route;
use crate::web::dom::{self, El, button, el, field, link, say, window};
use crate::web::net;

/// What a share dialog shows of what it shares.
#[derive(Clone)]
pub(super) struct Preview {
    pub title: String,
    /// `Photo`, `12 photos · Jun 2024`.
    pub detail: String,
    pub thumbnail: Option<String>,
}

/// A button that opens the share dialog for a photo or an album.
pub(super) fn share_button(kind: ShareKind, target_id: String, preview: Preview) -> El {
    let b = button("Share").class("secondary");
    let anchor = b.element();
    b.on("click", move |_| {
        // Beside the button, so the dialog goes with the page (or the lightbox) it is on.
        let home = anchor.parent_element().unwrap_or_else(|| anchor.clone());
        open_dialog(&home, kind, target_id.clone(), preview.clone())
    })
}

/// Opens the share dialog in `home`: a preview of what is
/// shared, the expiry (up to this stage's longest), an optional password with the API's rules,
/// "allow download", and the link with a copy button once made. The API answers a request with
/// the same options as a live link with that link: the dialog says it is the one already made.
pub(super) fn open_dialog(home: &Element, kind: ShareKind, target_id: String, preview: Preview) {
    let expiry = el("select").attr("aria-label", "Link expires after");
    let expiry_el: HtmlSelectElement = expiry.element().unchecked_into();
    {
        let e = expiry_el.clone();
        spawn_local(async move {
            let max = net::api::<api::Usage>(&api::me())
                .await
                .map_or(30, |u| u.max_share_days);
            let choices = api::expiry_choices(max);
            for d in &choices {
                let text = if *d == 1 {
                    "1 day".to_owned()
                } else {
                    format!("{d} days")
                };
                let _ = e.append_child(&el("option").attr("value", &d.to_string()).text(&text).0);
            }
            let default = if choices.contains(&7) {
                7
            } else {
                choices[choices.len() - 1]
            };
            e.set_value(&default.to_string());
            // The choices are this stage's: only now can a link be asked for.
            if let Some(create) = e
                .closest("form")
                .ok()
                .flatten()
                .and_then(|f| f.query_selector("button[type=submit]").ok().flatten())
            {
                let _ = create.remove_attribute("disabled");
            }
        });
    }
    let (pw_l, pw) = field("Password (optional)", "password", "share-password");
    let _ = pw.remove_attribute("required");
    // The link's own password: not one for the browser to save over the account's.
    let _ = pw.set_attribute("autocomplete", "off");
    let (min, max) = messages::SHARE_PASSWORD_CHARS;
    let _ = pw.set_attribute("minlength", &min.to_string());
    let _ = pw.set_attribute("maxlength", &max.to_string());
    let _ = pw.set_attribute("aria-describedby", "share-password-rules");
    let (dl_l, download) = field(
        "Allow download of the originals",
        "checkbox",
        "allow-download",
    );
    let result = el("div");
    let line = status();
    let (result_el, line_el) = (result.element(), line.element());
    let thumb = match &preview.thumbnail {
        Some(url) => el("img").attr("src", url).attr("alt", ""),
        None => el("span").class("empty"),
    };
    let dialog = el("dialog")
        .class("share")
        .attr("aria-labelledby", "share-title");
    let dialog_el: HtmlDialogElement = dialog.element().unchecked_into();
    let close = button("Close").class("secondary");
    let d = dialog_el.clone();
    let close = close.on("click", move |_| d.close());
    let d = dialog_el.clone();
    let dialog = dialog.on("close", move |_| d.remove()).child(
        form(move || {
            let share = NewShare::new(
                kind,
                &target_id,
                expiry_el.value().parse().unwrap_or(7),
                &pw.value(),
            )
            .allowing_download(download.checked());
            let (result, line) = (result_el.clone(), line_el.clone());
            say(&line, "Making the link…", false);
            spawn_local(async move {
                match net::api_status(&api::create_share(&share)).await {
                    Ok((status, text)) => match serde_json::from_str::<Share>(&text) {
                        Ok(s) => {
                            let said = if status == 200 {
                                "You already had a link with these options: here it is."
                            } else {
                                "Here is the link."
                            };
                            say(&line, said, false);
                            dom::replace_children(&result, &link_box(&s.token));
                        }
                        Err(_) => say(&line, "The server's answer was not understood.", true),
                    },
                    Err(e) => super::failed(&line, &e),
                }
            });
        })
        .child(
            el("h2")
                .attr("id", "share-title")
                .text(&format!("Share “{}”", preview.title)),
        )
        .child(
            el("div").class("preview").child(thumb).child(
                el("div")
                    .child(el("strong").text(&preview.title))
                    .child(el("span").class("notice").text(&preview.detail)),
            ),
        )
        .child(el("label").text("Expires after").child(expiry))
        .child(pw_l)
        .child(
            el("p")
                .class("hint")
                .attr("id", "share-password-rules")
                .text(&messages::share_password_rules()),
        )
        .child(dl_l.class("check"))
        .child(
            el("div")
                .class("row")
                .child(submit("Create link"))
                .child(close),
        )
        .child(line)
        .child(result),
    );
    let _ = home.append_child(&dialog.0);
    let _ = dialog_el.show_modal();
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

/// What a link shares, for the list: a name, a thumbnail and a count.
struct Target {
    name: String,
    detail: String,
    thumbnail: Option<String>,
    path: String,
}

/// Fills in what each link shares, row by row as it is learnt: the albums from their list
/// (every page), each shared photo from its own request. Stops when the page is left.
async fn fill_targets(shares: Vec<Share>, body: Element) {
    // Every link to it: one target may have several (different options).
    let show = |id: &str, target: Target| {
        let Ok(cells) =
            body.query_selector_all(&format!("tr[data-target=\"{id}\"] td:first-child"))
        else {
            return;
        };
        for i in 0..cells.length() {
            if let Some(cell) = cells.get(i).and_then(|c| c.dyn_into::<Element>().ok()) {
                dom::replace_children(&cell, &target_cell(&target));
            }
        }
    };
    if shares.iter().any(|s| s.kind == ShareKind::Album) {
        let mut cursor = Cursor::Start;
        for _ in 0..50 {
            let Some(req) = api::list_albums(&cursor, LIST_LIMIT) else {
                break;
            };
            let Ok(list) = net::api::<AlbumList>(&req).await else {
                break;
            };
            if !body.is_connected() {
                return;
            }
            for a in &list.albums {
                show(
                    &a.id,
                    Target {
                        name: a.name.clone(),
                        detail: format!("Album · {}", messages::album_summary(a)),
                        thumbnail: a.cover_thumbnail_url.clone(),
                        path: Route::Album(a.id.clone()).path(),
                    },
                );
            }
            cursor = Cursor::after(list.next_cursor.as_deref());
        }
    }
    for s in shares.iter().filter(|s| s.kind == ShareKind::Photo) {
        if !body.is_connected() {
            return;
        }
        if let Ok(p) = net::api::<Photo>(&api::get_photo(&s.target_id)).await {
            let detail = messages::photo_detail(&p);
            show(
                &p.id,
                Target {
                    name: p.display_name(),
                    detail,
                    thumbnail: p.thumbnail_url.clone(),
                    path: Route::Photo(p.id.clone()).path(),
                },
            );
        }
    }
}

fn target_cell(t: &Target) -> El {
    link(&t.path, "")
        .class("target")
        .child(match &t.thumbnail {
            Some(url) => el("img")
                .attr("src", url)
                .attr("alt", "")
                .attr("loading", "lazy"),
            None => el("span").class("empty"),
        })
        .child(
            el("span")
                .child(el("strong").text(&t.name))
                .child(el("span").class("notice").text(&t.detail)),
        )
}

pub(super) fn shares() -> El {
    let body = el("tbody");
    let line = status();
    let (b, l) = (body.element(), line.element());
    if let Some(req) = api::list_shares(&Cursor::Start, LIST_LIMIT) {
        let l2 = l.clone();
        send(&l, req, move |list: ShareList| {
            // A revoked link can never work again: there is nothing left to do with it.
            let live: Vec<Share> = list.shares.into_iter().filter(|s| !s.revoked).collect();
            if live.is_empty() {
                say(&l2, "You have no shared links.", false);
                return;
            }
            for s in &live {
                let _ = b.append_child(&share_row(s, l2.clone()).0);
            }
            spawn_local(fill_targets(live, b));
        });
    }
    el("section")
        .child(el("h1").text("Shared links"))
        .child(line)
        .child(
            el("table")
                .class("shares")
                .child(
                    el("thead").child(
                        el("tr").children(
                            [
                                "What", "Made", "Expires", "Password", "Download", "Link", "",
                            ]
                            .map(|h| el("th").text(h)),
                        ),
                    ),
                )
                .child(body),
        )
}

fn share_row(share: &Share, line: Element) -> El {
    // Until its target is known (or when it is gone: a deleted photo or album takes its links
    // with it), what kind of thing it shares.
    let what = el("span").class("notice").text(match share.kind {
        ShareKind::Photo => "A photo",
        ShareKind::Album => "An album",
    });
    let row = el("tr").attr("data-target", &share.target_id);
    let row_el = row.element();
    let token = share.token.clone();
    let revoke = button("Revoke").class("danger").on("click", move |_| {
        if !confirmed("Revoke this link? Anyone using it will lose access.") {
            return;
        }
        let (row, said) = (row_el.clone(), line.clone());
        send_text(&line, api::revoke_share(&token), move || {
            let body = row.parent_element();
            row.remove();
            if body.is_some_and(|b| b.child_element_count() == 0) {
                say(&said, "You have no shared links.", false);
            }
        });
    });
    let yes_no = |on: bool| if on { "Yes" } else { "No" };
    row.child(el("td").child(what))
        .child(el("td").text(&messages::day(&share.created_at)))
        .child(el("td").text(&messages::day(&share.expires_at)))
        .child(el("td").text(yes_no(share.has_password)))
        .child(el("td").text(yes_no(share.allow_download)))
        .child(el("td").child(link_box(&share.token)))
        .child(el("td").child(revoke))
}
