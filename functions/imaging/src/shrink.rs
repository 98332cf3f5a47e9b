//! Shrink-on-load for decoders that hand out rows: a box filter by a whole factor, fed one source
//! row at a time, so a 100-megapixel PNG never exists in memory at full size. The derivatives are
//! then resized from its output with Lanczos3, as from a JPEG decoded at a reduced DCT scale.
//!
//! Rows arrive in order (a plain PNG: only one band of sums is held) or as Adam7 pass rows (an
//! interlaced PNG: sums for the whole output are held, since every pass touches every band).

use crate::decode::Rgb;

/// Adam7's passes: `(x0, dx, y0, dy)` of the pixels each carries.
pub(crate) const ADAM7: [(u32, u32, u32, u32); 7] = [
    (0, 8, 0, 8),
    (4, 8, 0, 8),
    (0, 4, 4, 8),
    (2, 4, 0, 4),
    (0, 2, 2, 4),
    (1, 2, 0, 2),
    (0, 1, 1, 2),
];

/// How rows will arrive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Order {
    /// Top to bottom, each row whole.
    Sequential,
    /// In any order, each row a subsample (`x0`, `x0 + dx`, …): Adam7 passes.
    Scattered,
}

/// The largest whole factor that keeps `(width, height)` at least `need` on both axes.
pub(crate) fn factor_for(width: u32, height: u32, need: (u32, u32)) -> u32 {
    let on = |len: u32, need: u32| len / need.max(1);
    on(width, need.0).min(on(height, need.1)).max(1)
}

/// Bytes a [`Shrinker`] holds at once, output included.
pub(crate) fn bytes_held(width: u32, height: u32, factor: u32, order: Order) -> u64 {
    let (out_w, out_h) = (
        u64::from(width.div_ceil(factor)),
        u64::from(height.div_ceil(factor)),
    );
    let output = out_w * out_h * 3;
    let sums = match (factor, order) {
        (1, _) => 0,
        (_, Order::Sequential) => out_w * 3 * 4,
        (_, Order::Scattered) => out_w * out_h * 3 * 4,
    };
    output + sums
}

/// A box-filter downscale in progress.
pub(crate) struct Shrinker {
    factor: u32,
    width: u32,
    height: u32,
    out_w: u32,
    out_h: u32,
    order: Order,
    /// Per output cell and channel, the sum of the source samples seen so far: one band of
    /// cells (sequential) or all of them (scattered). Empty when the factor is 1.
    sums: Vec<u32>,
    /// The band whose sums are held (sequential order).
    band: u32,
    out: Vec<u8>,
}

impl Shrinker {
    pub(crate) fn new(width: u32, height: u32, factor: u32, order: Order) -> Shrinker {
        let factor = factor.max(1);
        let (out_w, out_h) = (width.div_ceil(factor), height.div_ceil(factor));
        let cells = match (factor, order) {
            (1, _) => 0,
            (_, Order::Sequential) => out_w as usize,
            (_, Order::Scattered) => out_w as usize * out_h as usize,
        };
        Shrinker {
            factor,
            width,
            height,
            out_w,
            out_h,
            order,
            sums: vec![0; cells * 3],
            band: 0,
            out: vec![0; out_w as usize * out_h as usize * 3],
        }
    }

    /// Adds source row `y`: `rgb` holds the pixels at `x0`, `x0 + dx`, `x0 + 2dx`, … of that row.
    /// Pixels past the image's width are ignored, as are rows past its height.
    pub(crate) fn push(&mut self, y: u32, x0: u32, dx: u32, rgb: &[u8]) {
        if y >= self.height {
            return;
        }
        let xs = (x0..self.width).step_by(dx.max(1) as usize);
        if self.factor == 1 {
            let row = y as usize * self.out_w as usize * 3;
            for (x, px) in xs.zip(rgb.chunks_exact(3)) {
                let at = row + x as usize * 3;
                self.out[at..at + 3].copy_from_slice(px);
            }
            return;
        }
        let cy = y / self.factor;
        let base = match self.order {
            Order::Sequential => {
                if cy != self.band {
                    self.flush_band();
                    self.band = cy;
                }
                0
            }
            Order::Scattered => cy as usize * self.out_w as usize * 3,
        };
        for (x, px) in xs.zip(rgb.chunks_exact(3)) {
            let at = base + (x / self.factor) as usize * 3;
            self.sums[at] += u32::from(px[0]);
            self.sums[at + 1] += u32::from(px[1]);
            self.sums[at + 2] += u32::from(px[2]);
        }
    }

    /// The shrunk image.
    pub(crate) fn finish(mut self) -> Rgb {
        match (self.factor, self.order) {
            (1, _) => {}
            (_, Order::Sequential) => self.flush_band(),
            (_, Order::Scattered) => {
                for cy in 0..self.out_h {
                    let at = cy as usize * self.out_w as usize * 3;
                    let len = self.out_w as usize * 3;
                    let rows = self.cell_height(cy);
                    Self::average(
                        &self.sums[at..at + len],
                        &mut self.out[at..at + len],
                        rows,
                        self.factor,
                        self.width,
                    );
                }
            }
        }
        Rgb {
            width: self.out_w,
            height: self.out_h,
            pixels: self.out,
        }
    }

    /// Source rows in output row `cy` (the last band may be short).
    fn cell_height(&self, cy: u32) -> u32 {
        self.factor.min(self.height - cy * self.factor)
    }

    fn flush_band(&mut self) {
        let cy = self.band;
        let at = cy as usize * self.out_w as usize * 3;
        let len = self.out_w as usize * 3;
        let rows = self.cell_height(cy);
        Self::average(
            &self.sums,
            &mut self.out[at..at + len],
            rows,
            self.factor,
            self.width,
        );
        self.sums.fill(0);
    }

    /// Writes the rounded means of one output row of sums.
    fn average(sums: &[u32], out: &mut [u8], rows: u32, factor: u32, width: u32) {
        for (cx, (sum, px)) in sums
            .chunks_exact(3)
            .zip(out.chunks_exact_mut(3))
            .enumerate()
        {
            let cols = factor.min(width - cx as u32 * factor);
            let count = rows * cols;
            for c in 0..3 {
                px[c] = ((sum[c] + count / 2) / count) as u8;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A `w`×`h` image whose pixel (x, y) is (x, y, x + y), as rows.
    fn rows(w: u32, h: u32) -> Vec<Vec<u8>> {
        (0..h)
            .map(|y| {
                (0..w)
                    .flat_map(|x| [x as u8, y as u8, (x + y) as u8])
                    .collect()
            })
            .collect()
    }

    #[test]
    fn averages_cells_including_short_edges() {
        let mut s = Shrinker::new(5, 3, 2, Order::Sequential);
        for (y, row) in rows(5, 3).iter().enumerate() {
            s.push(y as u32, 0, 1, row);
        }
        let out = s.finish();
        assert_eq!((out.width, out.height), (3, 2));
        // Cell (0,0): x 0..2, y 0..2 → mean x 0.5, y 0.5, x+y 1 (rounded half up).
        // Cell (2,1): x 4, y 2 only.
        assert_eq!(
            out.pixels,
            vec![1, 1, 1, 3, 1, 3, 4, 1, 5, 1, 2, 3, 3, 2, 5, 4, 2, 6]
        );
    }

    #[test]
    fn scattered_rows_give_the_same_image_as_sequential_ones() {
        let (w, h) = (13, 11);
        let image = rows(w, h);
        let mut sequential = Shrinker::new(w, h, 3, Order::Sequential);
        for (y, row) in image.iter().enumerate() {
            sequential.push(y as u32, 0, 1, row);
        }
        // Adam7's pattern: the same pixels, in seven subsampled passes.
        let mut scattered = Shrinker::new(w, h, 3, Order::Scattered);
        for (x0, dx, y0, dy) in ADAM7 {
            for y in (y0..h).step_by(dy as usize) {
                let sub: Vec<u8> = (x0..w)
                    .step_by(dx as usize)
                    .flat_map(|x| image[y as usize][x as usize * 3..x as usize * 3 + 3].to_vec())
                    .collect();
                scattered.push(y, x0, dx, &sub);
            }
        }
        assert_eq!(sequential.finish(), scattered.finish());
    }

    #[test]
    fn factor_one_copies_and_factor_keeps_what_is_needed() {
        let mut s = Shrinker::new(2, 1, 1, Order::Sequential);
        s.push(0, 0, 1, &[1, 2, 3, 4, 5, 6]);
        assert_eq!(s.finish().pixels, vec![1, 2, 3, 4, 5, 6]);
        assert_eq!(factor_for(10_000, 10_000, (1600, 1600)), 6);
        assert_eq!(factor_for(40_000, 799, (1600, 400)), 1);
        assert_eq!(factor_for(100, 100, (1600, 1600)), 1);
        assert_eq!(
            bytes_held(10_000, 10_000, 6, Order::Sequential),
            1667 * 1667 * 3 + 1667 * 12
        );
    }
}
