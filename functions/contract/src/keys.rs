//! The photo bucket's key layout.

/// Where the browser uploads originals (`originals/{user}/{photo}`). The bucket notifies the
/// thumbnail function for this prefix only.
pub const ORIGINALS_PREFIX: &str = "originals/";

/// Where the thumbnail function writes (`derivatives/{user}/{photo}/thumb.jpg` and
/// `preview.jpg`): outside [`ORIGINALS_PREFIX`], so writing a derivative can never trigger the
/// function again.
pub const DERIVATIVES_PREFIX: &str = "derivatives/";
