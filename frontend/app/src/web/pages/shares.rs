//! Share links: the form that makes one for a photo or an album, the link with its copy
//! button, and the page that lists the user's links, each with a revoke button.

use wasm_bindgen::JsCast;
use wasm_bindgen_futures::spawn_local;
use web_sys::{Element, HtmlSelectElement};

use super::{LIST_LIMIT, confirmed, form, send, send_text, status, submit};
use crate::api::{self, Cursor, NewShare, Share, ShareKind, ShareList};
use crate::messages;
use crate::route::Route;
use crate::web::dom::{self, El, button, el, field, link, say, window};
use crate::web::net;

pub(super) fn share_form(kind: ShareKind, target_id: String) -> El {
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
        send(&line_el, api::create_share(&share), move |s: Share| {
            say(&line, "", false);
            dom::replace_children(&result, &link_box(&s.token));
        });
    })
    .child(el("h2").text("Share"))
    .child(el("label").text("Expires after").child(expiry))
    .child(pw_l)
    .child(submit("Create link"))
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

pub(super) fn shares() -> El {
    let body = el("tbody");
    let line = status();
    let (b, l) = (body.element(), line.element());
    if let Some(req) = api::list_shares(&Cursor::Start, LIST_LIMIT) {
        let l2 = l.clone();
        send(&l, req, move |list: ShareList| {
            if list.shares.iter().all(|s| s.revoked) {
                say(&l2, "You have no shared links.", false);
                return;
            }
            // A revoked link can never work again: there is nothing left to do with it.
            for s in list.shares.into_iter().filter(|s| !s.revoked) {
                let _ = b.append_child(&share_row(s, l2.clone()).0);
            }
        });
    }
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
    row.child(el("td").child(what))
        .child(el("td").text(&messages::day(&share.expires_at)))
        .child(el("td").text(if share.has_password { "yes" } else { "no" }))
        .child(el("td").child(link_box(&share.token)))
        .child(el("td").child(revoke))
}
