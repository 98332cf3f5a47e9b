//! Zoom and pan of the lightbox's picture.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use wasm_bindgen::JsCast;
use web_sys::{Element, Event, MouseEvent, TouchEvent, WheelEvent};

use super::Lightbox;
use crate::web::dom::{self, document, listen};

/// Zoom and pan of the picture: wheel, pinch and double-click zoom about the point under the
/// pointer; a drag (or one finger) pans a zoomed picture; a swipe on an unzoomed one moves to
/// the previous or next photo.
pub(super) struct Zoom {
    figure: Element,
    image: RefCell<Option<Element>>,
    scale: Cell<f64>,
    x: Cell<f64>,
    y: Cell<f64>,
    /// A drag or a touch in progress: where it started and the pan then.
    grab: Cell<Option<(f64, f64, f64, f64)>>,
    /// A pinch in progress: the fingers' distance and the scale when it started.
    pinch: Cell<Option<(f64, f64)>>,
}

const MAX_SCALE: f64 = 8.0;

impl Zoom {
    pub(super) fn new(figure: Element) -> Zoom {
        Zoom {
            figure,
            image: RefCell::default(),
            scale: Cell::new(1.0),
            x: Cell::new(0.0),
            y: Cell::new(0.0),
            grab: Cell::new(None),
            pinch: Cell::new(None),
        }
    }

    pub(super) fn set_image(&self, image: &Element) {
        *self.image.borrow_mut() = Some(image.clone());
        self.reset();
    }

    pub(super) fn reset(&self) {
        self.scale.set(1.0);
        self.x.set(0.0);
        self.y.set(0.0);
        self.apply();
    }

    fn zoomed(&self) -> bool {
        self.scale.get() > 1.001
    }

    fn apply(&self) {
        if let Some(img) = self.image.borrow().as_ref() {
            let transform = format!(
                "translate({:.1}px,{:.1}px) scale({:.3})",
                self.x.get(),
                self.y.get(),
                self.scale.get()
            );
            dom::set_style(img, "transform", &transform);
        }
        let _ = self
            .figure
            .class_list()
            .toggle_with_force("zoomed", self.zoomed());
    }

    /// A point of the window, relative to the figure's centre.
    fn centred(&self, client_x: f64, client_y: f64) -> (f64, f64) {
        let r = self.figure.get_bounding_client_rect();
        (
            client_x - r.left() - r.width() / 2.0,
            client_y - r.top() - r.height() / 2.0,
        )
    }

    /// Scales to `to` keeping the picture's point under `(cx, cy)` (centred) where it is.
    fn zoom_at(&self, cx: f64, cy: f64, to: f64) {
        let to = to.clamp(1.0, MAX_SCALE);
        let k = to / self.scale.get();
        self.x.set(cx - (cx - self.x.get()) * k);
        self.y.set(cy - (cy - self.y.get()) * k);
        self.scale.set(to);
        if !self.zoomed() {
            self.x.set(0.0);
            self.y.set(0.0);
        }
        self.apply();
    }

    pub(super) fn listen(&self, lb: Rc<Lightbox>) {
        let f = self.figure.clone();
        let l = lb.clone();
        listen(&f, "wheel", move |e| {
            let Some(w) = e.dyn_ref::<WheelEvent>() else {
                return;
            };
            e.prevent_default();
            let z = &l.zoom;
            let (cx, cy) = z.centred(f64::from(w.client_x()), f64::from(w.client_y()));
            z.zoom_at(cx, cy, z.scale.get() * (-w.delta_y() / 300.0).exp());
        });
        let l = lb.clone();
        listen(&f, "dblclick", move |e| {
            let Some(m) = e.dyn_ref::<MouseEvent>() else {
                return;
            };
            let z = &l.zoom;
            let (cx, cy) = z.centred(f64::from(m.client_x()), f64::from(m.client_y()));
            z.zoom_at(cx, cy, if z.zoomed() { 1.0 } else { 2.5 });
        });
        let l = lb.clone();
        listen(&f, "mousedown", move |e| {
            let Some(m) = e.dyn_ref::<MouseEvent>() else {
                return;
            };
            let z = &l.zoom;
            if z.zoomed() && m.button() == 0 {
                e.prevent_default();
                z.grab.set(Some((
                    f64::from(m.client_x()),
                    f64::from(m.client_y()),
                    z.x.get(),
                    z.y.get(),
                )));
            }
        });
        let l = lb.clone();
        listen(&document(), "mousemove", move |e| {
            let (Some(m), Some((sx, sy, x0, y0))) = (e.dyn_ref::<MouseEvent>(), l.zoom.grab.get())
            else {
                return;
            };
            l.zoom.x.set(x0 + f64::from(m.client_x()) - sx);
            l.zoom.y.set(y0 + f64::from(m.client_y()) - sy);
            l.zoom.apply();
        });
        let l = lb.clone();
        listen(&document(), "mouseup", move |_| l.zoom.grab.set(None));
        let l = lb.clone();
        listen(&f, "touchstart", move |e| l.zoom.touch_start(&e));
        let l = lb.clone();
        listen(&f, "touchmove", move |e| l.zoom.touch_move(&e));
        listen(&f, "touchend", move |e| {
            if let Some(by) = lb.zoom.touch_end(&e) {
                lb.step(by);
            }
        });
    }

    fn touches(e: &Event) -> Vec<(f64, f64)> {
        let Some(t) = e.dyn_ref::<TouchEvent>() else {
            return Vec::new();
        };
        let list = t.touches();
        (0..list.length())
            .filter_map(|i| list.get(i))
            .map(|t| (f64::from(t.client_x()), f64::from(t.client_y())))
            .collect()
    }

    fn touch_start(&self, e: &Event) {
        match Zoom::touches(e).as_slice() {
            [(x, y)] => self.grab.set(Some((*x, *y, self.x.get(), self.y.get()))),
            [(x1, y1), (x2, y2), ..] => {
                self.grab.set(None);
                self.pinch
                    .set(Some(((x1 - x2).hypot(y1 - y2), self.scale.get())));
            }
            [] => {}
        }
    }

    fn touch_move(&self, e: &Event) {
        match (
            Zoom::touches(e).as_slice(),
            self.pinch.get(),
            self.grab.get(),
        ) {
            ([(x1, y1), (x2, y2), ..], Some((d0, s0)), _) if d0 > 0.0 => {
                e.prevent_default();
                let (cx, cy) = self.centred((x1 + x2) / 2.0, (y1 + y2) / 2.0);
                self.zoom_at(cx, cy, s0 * (x1 - x2).hypot(y1 - y2) / d0);
            }
            ([(x, y)], None, Some((sx, sy, x0, y0))) if self.zoomed() => {
                e.prevent_default();
                self.x.set(x0 + x - sx);
                self.y.set(y0 + y - sy);
                self.apply();
            }
            _ => {}
        }
    }

    /// Ends a touch; a swipe across an unzoomed picture says which way to move.
    fn touch_end(&self, e: &Event) -> Option<i32> {
        let grab = self.grab.take();
        if Zoom::touches(e).is_empty() {
            self.pinch.set(None);
        }
        let (sx, _, _, _) = grab?;
        let end = e
            .dyn_ref::<TouchEvent>()?
            .changed_touches()
            .get(0)
            .map(|t| f64::from(t.client_x()))?;
        if self.zoomed() {
            return None;
        }
        match end - sx {
            d if d > 60.0 => Some(-1),
            d if d < -60.0 => Some(1),
            _ => None,
        }
    }
}
