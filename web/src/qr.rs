//! QR codes of links, drawn on the server as inline SVG: a phone's camera opens the
//! link from another phone's screen, with no script and no image request.

use qrcode::render::svg;
use qrcode::{EcLevel, QrCode};

/// The QR code of `link` as an `<svg>` element to place in a page (no XML
/// declaration), or `None` when the link is too long for a QR code. The drawing is
/// decoration beside the link's text, so it is hidden from screen readers.
pub fn svg(link: &str) -> Option<String> {
    // Medium error correction: still read from a scratched or glaring screen.
    let code = QrCode::with_error_correction_level(link.as_bytes(), EcLevel::M).ok()?;
    let drawn = code
        .render::<svg::Color<'_>>()
        .min_dimensions(180, 180)
        .quiet_zone(true)
        .dark_color(svg::Color("#000"))
        .light_color(svg::Color("#fff"))
        .build();
    let start = drawn.find("<svg")?;
    Some(drawn[start..].replacen(
        "<svg ",
        "<svg class=\"qr\" aria-hidden=\"true\" focusable=\"false\" ",
        1,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The dark squares of a drawing, from its path (`M{x} {y}h{w}v{h}H{x}V{y}`
    /// per run), as a grey image `scale` pixels per unit; and the image's side.
    fn raster(svg: &str, scale: usize) -> (Vec<u8>, usize) {
        let size: usize = svg
            .split("width=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .and_then(|width| width.parse().ok())
            .expect("the drawing has a width");
        let path = svg
            .split(" d=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .expect("the drawing has a path");
        let side = size * scale;
        let mut pixels = vec![255u8; side * side];
        for run in path.split('M').filter(|run| !run.is_empty()) {
            let numbers: Vec<usize> = run
                .split(|c: char| !c.is_ascii_digit())
                .filter(|part| !part.is_empty())
                .map(|part| part.parse().expect("a number"))
                .collect();
            let (x, y, w, h) = (numbers[0], numbers[1], numbers[2], numbers[3]);
            for row in y * scale..(y + h) * scale {
                for column in x * scale..(x + w) * scale {
                    pixels[row * side + column] = 0;
                }
            }
        }
        (pixels, side)
    }

    #[test]
    fn the_drawing_reads_back_as_the_link() {
        let link =
            "https://caravan.example.cn/s/zhongning-goji/ug/g/0193a7c2-5b1e-7d3f-9a10-3c4d5e6f7a8b";
        let drawn = svg(link).expect("a QR code");
        assert!(drawn.starts_with("<svg class=\"qr\""), "{drawn}");
        assert!(!drawn.contains("<?xml"));
        assert!(!drawn.contains("style"), "no inline style under the CSP");
        let (pixels, side) = raster(&drawn, 4);
        let mut image =
            rqrr::PreparedImage::prepare_from_greyscale(side, side, |x, y| pixels[y * side + x]);
        let grids = image.detect_grids();
        assert_eq!(grids.len(), 1, "one QR code in the drawing");
        let (_, content) = grids[0].decode().expect("the code decodes");
        assert_eq!(content, link);
    }

    #[test]
    fn a_link_too_long_for_a_code_draws_nothing() {
        assert!(svg(&"x".repeat(4000)).is_none());
    }
}
