//! Screenshots of an X window (ImageMagick `import ... ppm:-`) and pixel checks.

use std::path::PathBuf;
use std::time::Duration;

use crate::display::Xvfb;
use crate::process::{require_tool, run_bounded};

pub type Rgb = [u8; 3];

pub struct Image {
    pub width: usize,
    pub height: usize,
    rgb: Vec<u8>,
}

impl Image {
    /// Parses a binary PPM (P6, maxval 255).
    pub fn from_ppm(data: &[u8]) -> Result<Image, String> {
        let mut fields = Vec::new();
        let mut pos = 0;
        while fields.len() < 4 {
            while pos < data.len() && data[pos].is_ascii_whitespace() {
                pos += 1;
            }
            if pos < data.len() && data[pos] == b'#' {
                while pos < data.len() && data[pos] != b'\n' {
                    pos += 1;
                }
                continue;
            }
            let start = pos;
            while pos < data.len() && !data[pos].is_ascii_whitespace() {
                pos += 1;
            }
            if start == pos {
                return Err(format!("truncated PPM header ({} bytes)", data.len()));
            }
            fields.push(String::from_utf8_lossy(&data[start..pos]).into_owned());
        }
        pos += 1; // the single whitespace after maxval
        if fields[0] != "P6" || fields[3] != "255" {
            return Err(format!("not an 8-bit P6 PPM: {fields:?}"));
        }
        let width: usize = fields[1].parse().map_err(|e| format!("width: {e}"))?;
        let height: usize = fields[2].parse().map_err(|e| format!("height: {e}"))?;
        let rgb = data
            .get(pos..pos + width * height * 3)
            .ok_or("truncated PPM pixels")?
            .to_vec();
        Ok(Image { width, height, rgb })
    }

    pub fn pixel(&self, x: usize, y: usize) -> Rgb {
        assert!(
            x < self.width && y < self.height,
            "pixel ({x},{y}) outside {}x{}",
            self.width,
            self.height
        );
        let i = (y * self.width + x) * 3;
        [self.rgb[i], self.rgb[i + 1], self.rgb[i + 2]]
    }

    /// Fraction of pixels in the rectangle [x0,x1)x[y0,y1) within `tol` of `want`.
    pub fn fraction_near(
        &self,
        (x0, y0, x1, y1): (usize, usize, usize, usize),
        want: Rgb,
        tol: u8,
    ) -> f64 {
        let (x1, y1) = (x1.min(self.width), y1.min(self.height));
        let mut hits = 0usize;
        let mut total = 0usize;
        for y in y0..y1 {
            for x in x0..x1 {
                total += 1;
                if near(self.pixel(x, y), want, tol) {
                    hits += 1;
                }
            }
        }
        if total == 0 {
            0.0
        } else {
            hits as f64 / total as f64
        }
    }

    /// Writes the image as a PPM under the target dir (kept for debugging failures).
    pub fn save(&self, name: &str) -> PathBuf {
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("rampart-e2e-screens");
        let _ = std::fs::create_dir_all(&dir);
        let path = dir.join(format!("{name}.ppm"));
        let mut data = format!("P6\n{} {}\n255\n", self.width, self.height).into_bytes();
        data.extend_from_slice(&self.rgb);
        let _ = std::fs::write(&path, data);
        path
    }
}

/// Every channel within `tol`.
pub fn near(got: Rgb, want: Rgb, tol: u8) -> bool {
    got.iter()
        .zip(want.iter())
        .all(|(g, w)| g.abs_diff(*w) <= tol)
}

pub fn hex(c: Rgb) -> String {
    format!("#{:02x}{:02x}{:02x}", c[0], c[1], c[2])
}

/// Captures window `window` ("root" for the whole screen) on `x`.
pub fn capture(x: &Xvfb, window: &str) -> Result<Image, String> {
    require_tool("import", "imagemagick");
    let (status, _, err) = run_bounded(
        "import",
        x.command("import")
            .args(["-window", window, "-depth", "8"])
            .arg(format!("ppm:{}", x.dir().join("shot.ppm").display())),
        Duration::from_secs(15),
    );
    match status {
        Some(s) if s.success() => {}
        other => return Err(format!("import -window {window} failed ({other:?}): {err}")),
    }
    let data =
        std::fs::read(x.dir().join("shot.ppm")).map_err(|e| format!("read screenshot: {e}"))?;
    Image::from_ppm(&data)
}

/// Parses "#rrggbb".
pub fn rgb(hex: &str) -> Rgb {
    let h = hex.trim_start_matches('#');
    let c = |i: usize| u8::from_str_radix(&h[i..i + 2], 16).expect("hex colour");
    [c(0), c(2), c(4)]
}
