//! The H.264 encoder: Cisco's OpenH264 through the `openh264` crate, built from source.
//!
//! Screen-content mode, one slice, constrained baseline (what every AVC420 decoder takes),
//! Annex B output (FreeRDP hands the bitstream to its decoder as is), BT.709 full range
//! signalled in the VUI to match the conversion in `picture.rs`. Bitrate control needs frame
//! skipping: a skipped picture comes back as [`Encoded::skipped`] and its damage is sent again.

use openh264::encoder::{
    BitRate, Complexity, Encoder, EncoderConfig, FrameRate, FrameType, IntraFramePeriod, Profile, QpRange,
    RateControlMode, UsageType, VuiConfig,
};
use openh264::formats::YUVSlices;
use openh264::OpenH264API;

use super::plan::Motion;

#[derive(Debug, thiserror::Error)]
pub(crate) enum H264Error {
    #[error("openh264: {0}")]
    Encoder(String),
}

/// Rate settings; the bitrate is a ceiling the encoder aims under.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Rate {
    pub(crate) bits_per_second: u32,
    pub(crate) max_fps: f32,
    /// OpenH264's screen-content mode (scroll detection, sharper text, more CPU) instead
    /// of its camera mode.
    pub(crate) screen_content: bool,
}

impl Default for Rate {
    fn default() -> Self {
        Self::for_motion(Motion::FullScreen)
    }
}

impl Rate {
    /// Local motion (a scrolling terminal, a moving window) in screen-content mode, whose
    /// scroll detection makes a scrolled terminal a few kilobytes; full-screen motion in
    /// camera mode, which keeps the frame rate where screen-content mode would spend the
    /// bitrate on a few large frames and skip the rest. Measured with `bench/desktop` at
    /// 1920x1080 on the 2-core development machine (docs/h264.md): screen-content mode
    /// scrolled a terminal at 1.25 Mbit/s where camera mode took 9 Mbit/s (and 2 Mbit/s in
    /// camera mode dropped it to 12 frames/s); camera mode animated the full screen at 31
    /// frames/s where screen-content mode managed 9.5.
    pub(crate) fn for_motion(motion: Motion) -> Self {
        Self {
            bits_per_second: 8_000_000,
            max_fps: 30.0,
            screen_content: motion == Motion::Local,
        }
    }
}

/// Whether OpenH264 takes a picture of this size (it stops at 3840x2160, either way round).
pub(crate) fn fits(width: u16, height: u16) -> bool {
    width.max(height) <= 3840 && width.min(height) <= 2160
}

pub(crate) struct H264 {
    encoder: Encoder,
}

/// One encoded picture.
#[derive(Debug)]
pub(crate) struct Encoded {
    pub(crate) annex_b: Vec<u8>,
    pub(crate) keyframe: bool,
}

impl Encoded {
    /// Rate control dropped this picture: nothing to send.
    pub(crate) fn skipped(&self) -> bool {
        self.annex_b.is_empty()
    }
}

impl H264 {
    pub(crate) fn new(rate: Rate) -> Result<Self, H264Error> {
        let config = EncoderConfig::new()
            .usage_type(if rate.screen_content {
                UsageType::ScreenContentRealTime
            } else {
                UsageType::CameraVideoRealTime
            })
            .profile(Profile::Baseline)
            .rate_control_mode(RateControlMode::Bitrate)
            .bitrate(BitRate::from_bps(rate.bits_per_second))
            .max_frame_rate(FrameRate::from_hz(rate.max_fps))
            .skip_frames(true)
            // Neither is available in screen-content mode (OpenH264 warns and turns them off).
            .adaptive_quantization(false)
            .background_detection(false)
            .complexity(Complexity::Low)
            // Up to the coarsest quantiser: under load, quality drops before frames do
            // (and the lossless refinement repairs it once the screen is still).
            .qp(QpRange::new(12, 51))
            .intra_frame_period(IntraFramePeriod::from_num_frames(0))
            .num_threads(1)
            .vui(VuiConfig::bt709_full());
        let encoder = Encoder::with_api_config(OpenH264API::from_source(), config)
            .map_err(|e| H264Error::Encoder(e.to_string()))?;
        Ok(Self { encoder })
    }

    /// Encodes one I420 picture of `width` x `height` (even) from `planes` with `strides`.
    pub(crate) fn encode(
        &mut self,
        planes: [&[u8]; 3],
        strides: [usize; 3],
        width: usize,
        height: usize,
    ) -> Result<Encoded, H264Error> {
        let [y, u, v] = planes;
        let [ys, us, vs] = strides;
        if !width.is_multiple_of(2) || !height.is_multiple_of(2) || ys < width || us < width / 2 || vs < width / 2 {
            return Err(H264Error::Encoder(format!("bad picture geometry {width}x{height}")));
        }
        if y.len() < ys * height || u.len() < us * (height / 2) || v.len() < vs * (height / 2) {
            return Err(H264Error::Encoder("planes shorter than the picture".into()));
        }
        let source = YUVSlices::new((y, u, v), (width, height), (ys, us, vs));
        let stream = self
            .encoder
            .encode(&source)
            .map_err(|e| H264Error::Encoder(e.to_string()))?;
        let keyframe = matches!(stream.frame_type(), FrameType::IDR | FrameType::I);
        let annex_b = match stream.frame_type() {
            FrameType::Skip | FrameType::Invalid => Vec::new(),
            _ => stream.to_vec(),
        };
        Ok(Encoded { annex_b, keyframe })
    }

    /// The next picture is a key frame (after a reset on the client).
    pub(crate) fn force_keyframe(&mut self) {
        self.encoder.force_intra_frame();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use openh264::decoder::Decoder;
    use openh264::formats::YUVSource;

    fn picture(width: usize, height: usize, shift: usize) -> (Vec<u8>, Vec<u8>, Vec<u8>) {
        let y = (0..width * height)
            .map(|i| ((i % width + shift) * 255 / (width + shift)) as u8)
            .collect();
        let u = vec![100; width / 2 * height / 2];
        let v = vec![150; width / 2 * height / 2];
        (y, u, v)
    }

    #[test]
    fn encodes_annex_b_that_decodes_back_to_the_picture() {
        let (w, h) = (320, 192);
        let mut enc = H264::new(Rate::default()).unwrap();
        let mut dec = Decoder::new().unwrap();
        for shift in 0..3 {
            let (y, u, v) = picture(w, h, shift * 8);
            let out = enc.encode([&y, &u, &v], [w, w / 2, w / 2], w, h).unwrap();
            assert_eq!(out.annex_b.get(..4), Some(&[0u8, 0, 0, 1][..]), "Annex B start code");
            assert_eq!(out.keyframe, shift == 0);
            let decoded = dec.decode(&out.annex_b).unwrap().expect("a picture per frame");
            assert_eq!(decoded.dimensions(), (w, h));
            let (ys, _, _) = decoded.strides();
            let err: u64 = (0..h)
                .flat_map(|r| (0..w).map(move |c| (r, c)))
                .map(|(r, c)| u64::from(decoded.y()[r * ys + c].abs_diff(y[r * w + c])))
                .sum();
            let mean = err as f64 / (w * h) as f64;
            assert!(mean < 2.0, "mean luma error {mean}");
        }
    }

    #[test]
    fn size_limit() {
        assert!(fits(3840, 2160) && fits(2160, 3840) && fits(1920, 1080));
        assert!(!fits(4096, 2160) && !fits(2400, 2400));
    }

    #[test]
    fn forced_keyframe_and_bad_geometry() {
        let (w, h) = (64, 64);
        let (y, u, v) = picture(w, h, 0);
        let mut enc = H264::new(Rate::default()).unwrap();
        assert!(enc.encode([&y, &u, &v], [w, w / 2, w / 2], w, h).unwrap().keyframe);
        assert!(!enc.encode([&y, &u, &v], [w, w / 2, w / 2], w, h).unwrap().keyframe);
        enc.force_keyframe();
        assert!(enc.encode([&y, &u, &v], [w, w / 2, w / 2], w, h).unwrap().keyframe);
        assert!(enc.encode([&y, &u, &v], [w, w / 2, w / 2], 63, h).is_err());
        assert!(enc.encode([&y[..10], &u, &v], [w, w / 2, w / 2], w, h).is_err());
    }
}
