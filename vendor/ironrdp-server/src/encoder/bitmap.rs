use core::num::NonZeroUsize;

use ironrdp_core::{Encode as _, WriteCursor, cast_int, cast_length, invalid_field_err};
use ironrdp_graphics::image_processing::PixelFormat;
use ironrdp_graphics::rdp6::{
    ABgrChannels, ARgbChannels, BgrAChannels, BitmapEncodeError, BitmapStreamEncoder, RgbAChannels,
};
use ironrdp_pdu::bitmap::{self, BitmapData, BitmapUpdateData, Compression};
use ironrdp_pdu::geometry::InclusiveRectangle;

use crate::BitmapUpdate;

// PERF: we could also remove the need for this buffer
#[derive(Clone)]
pub(crate) struct BitmapEncoder {
    buffer: Vec<u8>,
}

impl BitmapEncoder {
    pub(crate) fn new() -> Self {
        Self {
            buffer: vec![0; usize::from(u16::MAX)],
        }
    }

    pub(crate) fn encode(&mut self, bitmap: &BitmapUpdate, output: &mut [u8]) -> Result<usize, BitmapEncodeError> {
        // Rampart patch: any width, any stride. Upstream refused widths that are not a
        // multiple of 4 (every damage rectangle of an odd size, every desktop of an odd
        // width: the connection dropped), and computed the height of the last chunk of a
        // sub-bitmap (stride wider than its rows, as every diff rectangle is) one row short.
        // As xrdp does, the bitmap is sent padded to a multiple of 4 (repeating its last
        // column) with the destination rectangle of the real width, which clients clip to;
        // and it is made compact first, so `len / stride` is the row count.
        let dest_width = bitmap.width.get();
        let compact;
        let bitmap = match compact_padded(bitmap) {
            Some(copy) => {
                compact = copy;
                &compact
            }
            None => bitmap,
        };
        if !bitmap.width.get().is_multiple_of(4) {
            return Err(BitmapEncodeError::Encode(invalid_field_err!(
                "bitmap",
                "Width must be a multiple of 4"
            )));
        }

        let bytes_per_pixel = u16::from(bitmap.format.bytes_per_pixel());
        let row_len = bitmap.width.get() * bytes_per_pixel;
        let chunk_height = u16::MAX / row_len;

        let mut cursor = WriteCursor::new(output);
        let stride = bitmap.stride.get();
        let chunks = bitmap.data.chunks(stride * usize::from(chunk_height));

        let total = cast_int!("chunks length lower bound", chunks.size_hint().0).map_err(BitmapEncodeError::Encode)?;
        BitmapUpdateData::encode_header(total, &mut cursor).map_err(BitmapEncodeError::Encode)?;

        for (i, chunk) in chunks.enumerate() {
            let height = cast_int!("bitmap height", chunk.len() / stride).map_err(BitmapEncodeError::Encode)?;
            let i: u16 = cast_int!("chunk idx", i).map_err(BitmapEncodeError::Encode)?;
            let top = bitmap.y + i * chunk_height;

            let encoder = BitmapStreamEncoder::new(NonZeroUsize::from(bitmap.width).get(), usize::from(height));

            let len = {
                let pixels = chunk
                    .chunks(stride)
                    .map(|row| &row[..usize::from(row_len)])
                    .rev()
                    .flat_map(|row| row.chunks(usize::from(bytes_per_pixel)));

                Self::encode_iter(encoder, bitmap.format, pixels, self.buffer.as_mut_slice())?
            };

            let data = BitmapData {
                rectangle: InclusiveRectangle {
                    left: bitmap.x,
                    top,
                    right: bitmap.x + dest_width - 1,
                    bottom: top + height - 1,
                },
                width: u16::from(bitmap.width),
                height,
                bits_per_pixel: u16::from(bitmap.format.bytes_per_pixel()) * 8,
                compression_flags: Compression::BITMAP_COMPRESSION,
                compressed_data_header: Some(bitmap::CompressedDataHeader {
                    main_body_size: cast_length!("main body size", len).map_err(BitmapEncodeError::Encode)?,
                    scan_width: u16::from(bitmap.width),
                    uncompressed_size: height * row_len,
                }),
                bitmap_data: &self.buffer[..len],
            };

            data.encode(&mut cursor).map_err(BitmapEncodeError::Encode)?;
        }

        Ok(cursor.pos())
    }

    fn encode_iter<'a, P>(
        mut encoder: BitmapStreamEncoder,
        format: PixelFormat,
        src: P,
        dst: &mut [u8],
    ) -> Result<usize, BitmapEncodeError>
    where
        P: Iterator<Item = &'a [u8]> + Clone,
    {
        let written = match format {
            PixelFormat::ARgb32 | PixelFormat::XRgb32 => {
                encoder.encode_pixels_stream::<_, ARgbChannels>(src, dst, true)?
            }
            PixelFormat::RgbA32 | PixelFormat::RgbX32 => {
                encoder.encode_pixels_stream::<_, RgbAChannels>(src, dst, true)?
            }
            PixelFormat::ABgr32 | PixelFormat::XBgr32 => {
                encoder.encode_pixels_stream::<_, ABgrChannels>(src, dst, true)?
            }
            PixelFormat::BgrA32 | PixelFormat::BgrX32 => {
                encoder.encode_pixels_stream::<_, BgrAChannels>(src, dst, true)?
            }
        };

        Ok(written)
    }
}

/// Rampart patch: a copy of `bitmap` with rows exactly `width * bpp` bytes apart and its
/// width padded to a multiple of 4 by repeating each row's last pixel; `None` when the
/// bitmap is already so.
fn compact_padded(bitmap: &BitmapUpdate) -> Option<BitmapUpdate> {
    let bpp = usize::from(bitmap.format.bytes_per_pixel());
    let width = usize::from(bitmap.width.get());
    let height = usize::from(bitmap.height.get());
    let padded = width.next_multiple_of(4);
    let row_len = width * bpp;
    let stride = bitmap.stride.get();
    if padded == width && stride == row_len && bitmap.data.len() == row_len * height {
        return None;
    }
    let padded_row = padded * bpp;
    let mut data = Vec::with_capacity(padded_row * height);
    for y in 0..height {
        let start = y * stride;
        let row = bitmap.data.get(start..start + row_len)?;
        data.extend_from_slice(row);
        let last = row.get(row_len - bpp..)?;
        for _ in width..padded {
            data.extend_from_slice(last);
        }
    }
    Some(BitmapUpdate {
        x: bitmap.x,
        y: bitmap.y,
        width: core::num::NonZeroU16::new(u16::try_from(padded).ok()?)?,
        height: bitmap.height,
        format: bitmap.format,
        data: data.into(),
        stride: NonZeroUsize::new(padded_row)?,
    })
}

/// Rampart patch: the plain-bitmap encoder, reachable from Rampart's own tests (this crate
/// is vendored and not a workspace member, so its unit tests would not run in CI).
#[doc(hidden)]
pub fn rampart_encode_bitmap(bitmap: &BitmapUpdate) -> Result<Vec<u8>, BitmapEncodeError> {
    let mut encoder = BitmapEncoder::new();
    let mut out = vec![0u8; bitmap.data.len() * 2 + 1024];
    loop {
        match encoder.encode(bitmap, &mut out) {
            Ok(len) => {
                out.truncate(len);
                return Ok(out);
            }
            Err(BitmapEncodeError::Encode(e))
                if matches!(e.kind(), ironrdp_core::EncodeErrorKind::NotEnoughBytes { .. }) && out.len() < 1 << 28 =>
            {
                out.resize(out.len() * 2, 0);
            }
            Err(e) => return Err(e),
        }
    }
}
