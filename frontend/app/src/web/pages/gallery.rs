//! The timeline, the signed-in home page: the storage used, uploads by picker or drop, the
//! user's photos by date taken under date headers, the scrubber that jumps through months and
//! years, and the selection bar.

use std::rc::Rc;

use wasm_bindgen_futures::spawn_local;
use web_sys::Element;

use super::selection;
use super::upload;
use super::wall::{Source, Wall};
use crate::api::{self, Album, TimelineMonths};
use crate::messages;
use crate::route::Route;
use crate::timeline;
use crate::web::dom::{El, el, link, listen};
use crate::web::{net, query_param};

pub(super) fn gallery() -> El {
    let (wall, section) = Wall::new(Source::Timeline);
    let scrubber = el("nav")
        .class("scrubber")
        .attr("aria-label", "Jump to a month");
    fill_scrubber(&scrubber.element(), &wall);
    let usage = el("p").class("notice usage");
    let usage_el = usage.element();
    spawn_local(async move {
        if let Ok(u) = net::api::<api::Usage>(&api::me()).await {
            usage_el.set_text_content(Some(&messages::usage(&u)));
        }
    });
    el("section")
        .child(adding_to())
        .child(
            el("div")
                .class("title")
                .child(el("h1").text("Your photos"))
                .child(usage),
        )
        .child(upload::picker())
        .child(scrubber)
        .child(section)
        .child(selection::bar(&wall))
}

/// When the timeline was opened from an album's "Add photos": a line that says so, with the way
/// back.
fn adding_to() -> El {
    let Some(album) = query_param("add_to") else {
        return el("span");
    };
    let line = el("p")
        .class("adding")
        .text("Select the photos to add to the album, then “Add to album”. ")
        .child(link(
            &Route::Album(album.clone()).path(),
            "Back to the album",
        ));
    let l = line.element();
    spawn_local(async move {
        if let Ok(a) = net::api::<Album>(&api::get_album(&album)).await
            && let Some(first) = l.first_child()
        {
            first.set_text_content(Some(&format!(
                "Select the photos to add to “{}”, then “Add to album”. ",
                a.name
            )));
        }
    });
    line
}

/// The scrubber: a rail with a mark for each month that has photos, placed by how far down the
/// timeline it is (by photo count), labelled with its year where a year begins. Choosing a
/// month loads the timeline down to it and scrolls there.
fn fill_scrubber(rail: &Element, wall: &Rc<Wall>) {
    let (rail, wall) = (rail.clone(), wall.clone());
    spawn_local(async move {
        let Ok(answer) = net::api::<TimelineMonths>(&api::timeline_months()).await else {
            return;
        };
        let total: u64 = answer.months.iter().map(|m| m.photos).sum::<u64>().max(1);
        let mut before = 0u64;
        let mut year = String::new();
        for m in &answer.months {
            let permille = before * 1000 / total;
            before += m.photos;
            let this_year = m.month.get(..4).unwrap_or_default().to_owned();
            let label = timeline::month_label(&m.month);
            let mark = el("button")
                .attr("type", "button")
                .class("mark")
                .attr("data-month", &m.month)
                .attr("title", &label)
                .attr("aria-label", &label)
                .style("top", &format!("{}.{}%", permille / 10, permille % 10));
            let mark = if this_year != year {
                year.clone_from(&this_year);
                mark.class("mark year").text(&this_year)
            } else {
                mark
            };
            let (w, month) = (wall.clone(), m.month.clone());
            listen(&mark.element(), "click", move |_| {
                let (w, month) = (w.clone(), month.clone());
                spawn_local(async move { w.jump_to(&month).await });
            });
            let _ = rail.append_child(&mark.0);
        }
    });
}
