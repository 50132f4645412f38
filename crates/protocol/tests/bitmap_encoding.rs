//! The plain-bitmap path (clients without RemoteFX or surface commands) at every size:
//! the vendored encoder's patch (`vendor/PATCHES.md`) pads odd widths and compacts
//! sub-bitmaps, and every row arrives once with the real destination rectangle.

#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]

use std::num::{NonZeroU16, NonZeroUsize};

use ironrdp_pdu::bitmap::BitmapUpdateData;
use ironrdp_server::{BitmapUpdate, PixelFormat};

/// A `width`x`height` bitmap at (3, 5) whose rows sit `stride` bytes apart; like a
/// sub-bitmap, its last row is only as long as its width.
fn update(width: u16, height: u16, stride: usize) -> BitmapUpdate {
    let mut data = Vec::new();
    for y in 0..usize::from(height) {
        for x in 0..stride / 4 {
            data.extend_from_slice(&[(x % 251) as u8, (y % 251) as u8, 0x40, 0xff]);
        }
    }
    data.truncate(stride * (usize::from(height) - 1) + usize::from(width) * 4);
    BitmapUpdate {
        x: 3,
        y: 5,
        width: NonZeroU16::new(width).unwrap(),
        height: NonZeroU16::new(height).unwrap(),
        format: PixelFormat::BgrX32,
        data: data.into(),
        stride: NonZeroUsize::new(stride).unwrap(),
    }
}

#[test]
fn every_size_encodes_with_its_real_destination() {
    let cases = [
        (1u16, 1u16, 4usize),
        (13, 3, 256),
        (1001, 7, 1001 * 4),
        (1001, 703, 1001 * 4),
        (64, 2, 4096),
        (1919, 40, 1920 * 4),
        (2560, 9, 2560 * 4),
    ];
    for (w, h, stride) in cases {
        let encoded = ironrdp_server::rampart_encode_bitmap(&update(w, h, stride))
            .unwrap_or_else(|e| panic!("{w}x{h} (stride {stride}): {e}"));
        let decoded: BitmapUpdateData<'_> = ironrdp_core::decode(&encoded).unwrap();
        let mut next_top = 5;
        for r in &decoded.rectangles {
            assert_eq!(r.rectangle.left, 3, "{w}x{h}");
            assert_eq!(r.rectangle.right, 3 + w - 1, "{w}x{h}: destination is the real width");
            assert_eq!(r.width % 4, 0, "{w}x{h}: sent width is a multiple of 4");
            assert!(r.width >= w && r.width < w + 4, "{w}x{h}: padded by at most 3");
            assert_eq!(r.rectangle.top, next_top, "{w}x{h}: rows in order, none skipped");
            assert_eq!(r.rectangle.bottom - r.rectangle.top + 1, r.height, "{w}x{h}");
            next_top = r.rectangle.bottom + 1;
        }
        assert_eq!(next_top, 5 + h, "{w}x{h}: every row sent exactly once");
    }
}
