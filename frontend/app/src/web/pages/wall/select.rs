//! The wall's selection: what is selected, the checks that show it, and the clicks, shift-clicks
//! and long presses that change it.

use std::rc::Rc;

use wasm_bindgen::JsCast;
use wasm_bindgen_futures::spawn_local;
use web_sys::{Element, Event, MouseEvent};

use super::{LONG_PRESS_MS, Wall};
use crate::timeline;
use crate::web::dom::listen;
use crate::web::net;

impl Wall {
    /// The selected photos, in the wall's order.
    pub(in crate::web::pages) fn selected(&self) -> Vec<String> {
        let s = self.selection.borrow();
        self.order()
            .into_iter()
            .filter(|id| s.ids.contains(id))
            .collect()
    }

    /// Tells `f` the number selected whenever it changes.
    pub(in crate::web::pages) fn on_select(&self, f: impl Fn(usize) + 'static) {
        *self.on_select.borrow_mut() = Some(Box::new(f));
    }

    pub(in crate::web::pages) fn clear_selection(&self) {
        let ids = std::mem::take(&mut self.selection.borrow_mut().ids);
        for id in ids {
            self.mark(&id, false);
        }
        self.selection.borrow_mut().anchor = None;
        self.selection_changed();
    }

    pub(in crate::web::pages) fn mark(&self, id: &str, on: bool) {
        if let Some(t) = self.tile_el(id) {
            let _ = t.class_list().toggle_with_force("selected", on);
            if let Ok(Some(check)) = t.query_selector(".check") {
                let _ = check.set_attribute("aria-pressed", if on { "true" } else { "false" });
            }
        }
    }

    pub(in crate::web::pages) fn selection_changed(&self) {
        let n = self.selection.borrow().ids.len();
        let _ = self.root.class_list().toggle_with_force("selecting", n > 0);
        if let Some(f) = self.on_select.borrow().as_ref() {
            f(n);
        }
    }

    /// A click on a tile's check (or on a tile while selecting): toggles it; with shift, selects
    /// from the last one toggled to this one.
    fn toggle(&self, id: &str, range: bool) {
        let anchor = self.selection.borrow().anchor.clone();
        if range && anchor.is_some() {
            let order = self.order();
            for x in timeline::range(&order, anchor.as_deref(), id) {
                self.selection.borrow_mut().ids.insert(x.clone());
                self.mark(x, true);
            }
        } else {
            let on = !self.selection.borrow().ids.contains(id);
            {
                let mut s = self.selection.borrow_mut();
                if on {
                    s.ids.insert(id.to_owned());
                } else {
                    s.ids.remove(id);
                }
            }
            self.mark(id, on);
        }
        self.selection.borrow_mut().anchor = Some(id.to_owned());
        self.selection_changed();
    }

    /// One set of listeners on the wall serves every tile: checks, clicks while selecting,
    /// shift-clicks, and long presses.
    pub(in crate::web::pages) fn listen_for_clicks(self: &Rc<Self>) {
        let w = self.clone();
        listen(&self.root, "click", move |e: Event| {
            let Some(target) = e.target().and_then(|t| t.dyn_into::<Element>().ok()) else {
                return;
            };
            let Some(tile) = target.closest(".tile").ok().flatten() else {
                return;
            };
            let id = tile.get_attribute("data-id").unwrap_or_default();
            let shift = e.dyn_ref::<MouseEvent>().is_some_and(MouseEvent::shift_key);
            let on_check = target.closest(".check").ok().flatten().is_some();
            let selecting = !w.selection.borrow().ids.is_empty();
            if w.pressed.replace(false) {
                e.prevent_default();
                return;
            }
            if on_check || selecting || shift {
                e.prevent_default();
                w.toggle(&id, shift);
            }
        });
        let w = self.clone();
        listen(&self.root, "touchstart", move |e: Event| {
            let Some(tile) = e
                .target()
                .and_then(|t| t.dyn_into::<Element>().ok())
                .and_then(|t| t.closest(".tile").ok().flatten())
            else {
                return;
            };
            // A long press before may have been followed by no click on this device.
            w.pressed.set(false);
            w.touching.set(true);
            let press = w.press.get().wrapping_add(1);
            w.press.set(press);
            let w = w.clone();
            spawn_local(async move {
                net::sleep(LONG_PRESS_MS).await;
                if w.press.get() == press {
                    let id = tile.get_attribute("data-id").unwrap_or_default();
                    w.pressed.set(true);
                    w.toggle(&id, false);
                }
            });
        });
        for ty in ["touchend", "touchmove", "touchcancel"] {
            let w = self.clone();
            listen(&self.root, ty, move |e: Event| {
                w.press.set(w.press.get().wrapping_add(1));
                if ty != "touchmove" {
                    w.touching.set(false);
                }
                // The end of a press that selected opens nothing.
                if ty == "touchend" && w.pressed.replace(false) {
                    e.prevent_default();
                }
            });
        }
        let w = self.clone();
        listen(&self.root, "contextmenu", move |e: Event| {
            // A long press on a touch screen selects rather than opening the link's menu.
            if w.pressed.get() || w.touching.get() {
                e.prevent_default();
            }
        });
    }
}
