//! The server's copy of the surface: BGRX pixels as captured, the I420 picture the H.264
//! encoder reads (BT.709 full range, what FreeRDP 2.11 and Windows decode AVC420 with), and
//! lossless RDP 6.0 planar encoding of rectangles for refinement.
//!
//! Damage only converts the rows it touched to I420 (SIMD conversion from the `yuv` crate).
//! The I420 picture is padded to whole 16x16 macroblocks with black.

use ironrdp_graphics::rdp6::{BgrAChannels, BitmapStreamEncoder};
use rampart_desktop::Frame;
use yuv::{BufferStoreMut, YuvConversionMode, YuvPlanarImageMut, YuvRange, YuvStandardMatrix};

use super::plan::Rect;

#[derive(Debug, thiserror::Error)]
pub(crate) enum PictureError {
    #[error("frame {x},{y} {width}x{height} (stride {stride}, {len} bytes) does not fit its data")]
    BadFrame {
        x: u16,
        y: u16,
        width: u16,
        height: u16,
        stride: usize,
        len: usize,
    },
    #[error("yuv conversion: {0}")]
    Yuv(String),
    #[error("planar encoding: {0}")]
    Planar(String),
}

pub(crate) struct Picture {
    width: u16,
    height: u16,
    bgrx: Vec<u8>,
    /// I420 planes at `coded_width` x `coded_height`.
    y: Vec<u8>,
    u: Vec<u8>,
    v: Vec<u8>,
    coded_width: usize,
    coded_height: usize,
    /// Rows changed since the last I420 conversion: `[start, end)`.
    stale_rows: Option<(usize, usize)>,
}

impl std::fmt::Debug for Picture {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Picture")
            .field("width", &self.width)
            .field("height", &self.height)
            .finish()
    }
}

fn align16(v: u16) -> usize {
    usize::from(v).div_ceil(16) * 16
}

/// Rows the BGRX copy holds: the height rounded up to even.
fn padded_rows(height: u16) -> usize {
    usize::from(height).next_multiple_of(2)
}

impl Picture {
    /// A black picture.
    pub(crate) fn new(width: u16, height: u16) -> Self {
        let (cw, ch) = (align16(width), align16(height));
        Self {
            width,
            height,
            // One more row when the height is odd: 4:2:0 converts rows in pairs, and the
            // last pair needs a second row (a copy of the last one).
            bgrx: vec![0; usize::from(width) * padded_rows(height) * 4],
            y: vec![0; cw * ch],
            u: vec![128; (cw / 2) * (ch / 2)],
            v: vec![128; (cw / 2) * (ch / 2)],
            coded_width: cw,
            coded_height: ch,
            stale_rows: None,
        }
    }

    pub(crate) fn size(&self) -> (u16, u16) {
        (self.width, self.height)
    }

    /// The H.264 picture size (whole macroblocks).
    pub(crate) fn coded_size(&self) -> (usize, usize) {
        (self.coded_width, self.coded_height)
    }

    fn stride(&self) -> usize {
        usize::from(self.width) * 4
    }

    /// Copies a captured frame in; returns the part of the surface it changed.
    pub(crate) fn apply(&mut self, frame: &Frame) -> Result<Option<Rect>, PictureError> {
        let bad = || PictureError::BadFrame {
            x: frame.x,
            y: frame.y,
            width: frame.width,
            height: frame.height,
            stride: frame.stride,
            len: frame.data.len(),
        };
        let row_bytes = usize::from(frame.width) * 4;
        if frame.stride < row_bytes {
            return Err(bad());
        }
        let needed = match usize::from(frame.height) {
            0 => 0,
            h => frame.stride * (h - 1) + row_bytes,
        };
        if frame.data.len() < needed {
            return Err(bad());
        }
        let rect = Rect {
            left: frame.x.min(self.width),
            top: frame.y.min(self.height),
            right: frame.x.saturating_add(frame.width).min(self.width),
            bottom: frame.y.saturating_add(frame.height).min(self.height),
        };
        if rect.width() == 0 || rect.height() == 0 {
            return Ok(None);
        }
        let copy = usize::from(rect.width()) * 4;
        let stride = self.stride();
        for row in 0..usize::from(rect.height()) {
            let src = frame.data.get(row * frame.stride..row * frame.stride + copy);
            let at = (usize::from(rect.top) + row) * stride + usize::from(rect.left) * 4;
            let dst = self.bgrx.get_mut(at..at + copy);
            if let (Some(src), Some(dst)) = (src, dst) {
                dst.copy_from_slice(src);
            }
        }
        let (start, end) = (usize::from(rect.top), usize::from(rect.bottom));
        self.stale_rows = Some(match self.stale_rows {
            Some((s, e)) => (s.min(start), e.max(end)),
            None => (start, end),
        });
        Ok(Some(rect))
    }

    /// Brings the I420 planes up to date and returns them with their strides.
    pub(crate) fn i420(&mut self) -> Result<([&[u8]; 3], [usize; 3]), PictureError> {
        if let Some((start, end)) = self.stale_rows.take() {
            self.convert_rows(start, end)?;
        }
        let cw = self.coded_width;
        Ok(([&self.y, &self.u, &self.v], [cw, cw / 2, cw / 2]))
    }

    fn convert_rows(&mut self, start: usize, end: usize) -> Result<(), PictureError> {
        // 4:2:0 pairs rows: start and end on even rows; an odd height's last pair takes
        // the padding row, a copy of the last row.
        let rows = padded_rows(self.height);
        let start = start & !1;
        let end = (end + (end & 1)).min(rows);
        if end <= start {
            return Ok(());
        }
        let cw = self.coded_width;
        let stride = self.stride();
        if end == rows && rows > usize::from(self.height) {
            let last = usize::from(self.height).saturating_sub(1) * stride;
            self.bgrx.copy_within(last..last + stride, last + stride);
        }
        let to_u32 = |v: usize| u32::try_from(v).map_err(|e| PictureError::Yuv(e.to_string()));
        let bgrx = self
            .bgrx
            .get(start * stride..end * stride)
            .ok_or_else(|| PictureError::Yuv("row range outside the picture".into()))?;
        let short = || PictureError::Yuv("plane too small".into());
        let y = self.y.get_mut(start * cw..).ok_or_else(short)?;
        let u = self.u.get_mut((start / 2) * (cw / 2)..).ok_or_else(short)?;
        let v = self.v.get_mut((start / 2) * (cw / 2)..).ok_or_else(short)?;
        let mut image = YuvPlanarImageMut {
            y_plane: BufferStoreMut::Borrowed(y),
            y_stride: to_u32(cw)?,
            u_plane: BufferStoreMut::Borrowed(u),
            u_stride: to_u32(cw / 2)?,
            v_plane: BufferStoreMut::Borrowed(v),
            v_stride: to_u32(cw / 2)?,
            width: u32::from(self.width),
            height: to_u32(end - start)?,
        };
        yuv::bgra_to_yuv420(
            &mut image,
            bgrx,
            to_u32(stride)?,
            YuvRange::Full,
            YuvStandardMatrix::Bt709,
            YuvConversionMode::Balanced,
        )
        .map_err(|e| PictureError::Yuv(e.to_string()))
    }

    /// The pixels of `rect`, tightly packed BGRX rows.
    pub(crate) fn pixels(&self, rect: Rect) -> Vec<u8> {
        let stride = self.stride();
        let copy = usize::from(rect.width()) * 4;
        let mut out = Vec::with_capacity(copy * usize::from(rect.height()));
        for row in usize::from(rect.top)..usize::from(rect.bottom) {
            let at = row * stride + usize::from(rect.left) * 4;
            if let Some(src) = self.bgrx.get(at..at + copy) {
                out.extend_from_slice(src);
            }
        }
        out
    }

    /// `rect` as an RDP 6.0 planar bitmap (MS-RDPEGFX RDPGFX_CODECID_PLANAR): RLE planes,
    /// no alpha, no colour loss — lossless.
    pub(crate) fn planar(&self, rect: Rect) -> Result<Vec<u8>, PictureError> {
        let (w, h) = (usize::from(rect.width()), usize::from(rect.height()));
        let src = self.pixels(rect);
        if src.len() != w * h * 4 {
            return Err(PictureError::Planar("rectangle outside the picture".into()));
        }
        let mut encoder = BitmapStreamEncoder::new(w, h);
        // RLE's worst case: a control byte per 15 raw bytes, plus per-row slack.
        let mut dst = vec![0u8; 16 + 3 * (w * h + w * h / 15 + 4 * h + 16)];
        match encoder.encode_bitmap::<BgrAChannels>(&src, &mut dst, true) {
            Ok(len) => {
                dst.truncate(len);
                Ok(dst)
            }
            Err(_) => {
                // Uncompressed planes always fit: header, three planes, one pad byte.
                let mut raw = vec![0u8; 2 + 3 * w * h];
                let len = encoder
                    .encode_bitmap::<BgrAChannels>(&src, &mut raw, false)
                    .map_err(|e| PictureError::Planar(e.to_string()))?;
                raw.truncate(len);
                Ok(raw)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ironrdp_graphics::rdp6::BitmapStreamDecoder;

    fn frame(x: u16, y: u16, width: u16, height: u16, fill: impl Fn(u16, u16) -> [u8; 4]) -> Frame {
        let mut data = Vec::new();
        for row in 0..height {
            for col in 0..width {
                data.extend_from_slice(&fill(x + col, y + row));
            }
        }
        Frame {
            x,
            y,
            width,
            height,
            stride: usize::from(width) * 4,
            data,
        }
    }

    /// A busy, text-like pattern: every pixel differs from its neighbours.
    fn busy(x: u16, y: u16) -> [u8; 4] {
        let v = u32::from(x) * 7919 + u32::from(y) * 104_729;
        [(v % 251) as u8, (v / 3 % 241) as u8, (v / 7 % 239) as u8, 0]
    }

    #[test]
    fn planar_round_trips_exactly() {
        let mut p = Picture::new(200, 100);
        p.apply(&frame(0, 0, 200, 100, busy)).unwrap();
        // A flat area too, which RLE shrinks.
        p.apply(&frame(10, 10, 50, 50, |_, _| [200, 100, 50, 0])).unwrap();
        let rect = Rect {
            left: 3,
            top: 5,
            right: 150,
            bottom: 77,
        };
        let encoded = p.planar(rect).unwrap();
        let mut rgb = Vec::new();
        BitmapStreamDecoder::default()
            .decode_bitmap_stream_to_rgb24(&encoded, &mut rgb, 147, 72)
            .unwrap();
        let bgrx = p.pixels(rect);
        let expected: Vec<u8> = bgrx.chunks_exact(4).flat_map(|px| [px[2], px[1], px[0]]).collect();
        assert_eq!(rgb, expected);
    }

    #[test]
    fn odd_sizes_convert_whole_and_partly() {
        // The yuv crate converts rows in pairs; an odd height once panicked it on the last
        // pair (a client at 1001x703 stopped the encoder thread).
        for (w, h) in [(1001u16, 703u16), (17, 1), (33, 15), (1920, 1080)] {
            let mut p = Picture::new(w, h);
            p.apply(&frame(0, 0, w, h, busy)).unwrap();
            p.i420().unwrap_or_else(|e| panic!("{w}x{h}: {e}"));
            // Damage on the last row only, and on the first.
            p.apply(&frame(0, h - 1, w, 1, |x, _| [x as u8, 1, 2, 0])).unwrap();
            p.i420().unwrap_or_else(|e| panic!("{w}x{h} last row: {e}"));
            p.apply(&frame(0, 0, w, 1, |x, _| [x as u8, 3, 4, 0])).unwrap();
            let ([y, _, _], [y_stride, _, _]) = p.i420().unwrap();
            assert!(y.len() >= y_stride * usize::from(h));
        }
    }

    #[test]
    fn planar_compresses_flat_areas() {
        let mut p = Picture::new(256, 256);
        p.apply(&frame(0, 0, 256, 256, |_, _| [30, 30, 30, 0])).unwrap();
        let all = Rect {
            left: 0,
            top: 0,
            right: 256,
            bottom: 256,
        };
        let len = p.planar(all).unwrap().len();
        assert!(len < 256 * 256 * 4 / 20, "{len} bytes");
    }

    #[test]
    fn frames_are_clipped_and_bad_ones_refused() {
        let mut p = Picture::new(100, 100);
        let changed = p.apply(&frame(90, 95, 20, 20, busy)).unwrap();
        assert_eq!(
            changed,
            Some(Rect {
                left: 90,
                top: 95,
                right: 100,
                bottom: 100
            })
        );
        let mut short = frame(0, 0, 10, 10, busy);
        short.data.truncate(10);
        assert!(p.apply(&short).is_err());
        assert_eq!(p.apply(&frame(100, 0, 5, 5, busy)).unwrap(), None);
    }

    #[test]
    fn i420_is_bt709_full_range_and_padded_black() {
        let mut p = Picture::new(20, 18);
        // White, then a pure red block.
        p.apply(&frame(0, 0, 20, 18, |_, _| [255, 255, 255, 0])).unwrap();
        p.apply(&frame(0, 0, 4, 4, |_, _| [0, 0, 255, 0])).unwrap();
        assert_eq!(p.coded_size(), (32, 32));
        let ([y, u, v], [ys, us, _]) = p.i420().unwrap();
        assert!(y[10] >= 254, "white is full-range Y 255, got {}", y[10]);
        // BT.709: Y(red) = 0.2126 * 255 = 54; V(red) = 128 + 0.5 * 255 = 255.
        assert!((53..=55).contains(&y[0]), "Y(red) {}", y[0]);
        assert!(v[0] >= 254, "V(red) {}", v[0]);
        assert!((126..=130).contains(&u[5]), "U(white) {}", u[5]);
        // Padding stays black.
        assert_eq!(y[ys * 20], 0);
        assert_eq!(y[25], 0);
        assert_eq!(u[us * 10], 128);
    }

    #[test]
    fn only_stale_rows_are_converted_again() {
        let mut p = Picture::new(32, 32);
        p.apply(&frame(0, 0, 32, 32, |_, _| [0, 0, 0, 0])).unwrap();
        p.i420().unwrap();
        // Change the pixels behind the picture's back: not converted, since not stale.
        p.bgrx.iter_mut().for_each(|b| *b = 255);
        p.apply(&frame(0, 10, 32, 1, |_, _| [255, 255, 255, 0])).unwrap();
        let ([y, _, _], [ys, _, _]) = p.i420().unwrap();
        assert_eq!(y[ys * 4], 0, "row 4 was not stale");
        assert!(y[ys * 10] >= 254);
        assert!(y[ys * 11] >= 254, "the row pair is converted together");
    }
}
