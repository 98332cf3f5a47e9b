//! The memory budget: what decoding and deriving one photo hold at once, estimated from its header
//! before anything large is allocated, and compared with [`Settings::max_alloc`].
//!
//! Each estimate counts every buffer alive at the same time (the decoder's own state, the decoded
//! or shrunk image, conversion copies, the resizer's intermediate and coefficients, the
//! derivatives, their oriented copies and the encoder's output) and is an upper bound: the
//! imaging tests measure the real peak with a counting allocator and check it stays below both
//! the estimate and the budget. The original file's bytes, held by the caller, are not counted.

use crate::{ImagingError, Settings, derive};

/// One mebibyte.
pub(crate) const MIB: u64 = 1 << 20;

/// Slack for the small allocations no formula tracks: tables, line buffers, thread stacks'
/// bookkeeping, the EXIF reader.
const SLACK: u64 = 2 * MIB;

/// Refuses a photo whose estimated need exceeds the budget.
pub(crate) fn check(needed: u64, settings: &Settings) -> Result<(), ImagingError> {
    if needed > settings.max_alloc {
        return Err(ImagingError::TooMuchMemory {
            needed,
            limit: settings.max_alloc,
        });
    }
    Ok(())
}

/// Bytes the derivatives hold at once, made from a stored image of `stored`
/// (`stored_bytes` allocated for it) of a photo whose full size is `full`.
pub(crate) fn derive_bytes(
    full: (u32, u32),
    stored: (u32, u32),
    stored_bytes: u64,
    settings: &Settings,
) -> u64 {
    let (sw, sh) = (u64::from(stored.0), u64::from(stored.1));
    let (pw, ph) = derive::fit_long_edge(full.0, full.1, settings.preview_long_edge.max(1));
    let (pw, ph) = (u64::from(pw).min(sw), u64::from(ph).min(sh));
    let preview = pw * ph * 3;
    // The resizer's intermediate (one axis done, the other not) and its filter coefficients.
    let resizing = (pw * sh).max(sw * ph) * 3 + 80 * (sw + sh);
    let side = u64::from(settings.thumbnail_side.max(1)).min(sw.min(sh));
    let thumbnail = side * side * 3;
    let thumb_resizing = side * sw.max(sh) * 3;
    // Both derivatives, their upright copies and the encoders' output and buffers.
    stored_bytes + resizing + thumb_resizing + 3 * preview + 3 * thumbnail + SLACK
}

/// Adds [`SLACK`] to a decoder's own estimate.
pub(crate) fn with_slack(bytes: u64) -> u64 {
    bytes + SLACK
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_above_the_budget_only() {
        let settings = Settings {
            max_alloc: 100,
            ..Settings::default()
        };
        assert_eq!(check(100, &settings), Ok(()));
        assert_eq!(
            check(101, &settings),
            Err(ImagingError::TooMuchMemory {
                needed: 101,
                limit: 100
            })
        );
    }

    #[test]
    fn deriving_a_small_image_costs_little() {
        let bytes = derive_bytes(
            (1200, 800),
            (1200, 800),
            1200 * 800 * 3,
            &Settings::default(),
        );
        assert!(bytes < 24 * MIB, "{bytes}");
    }
}
