//! What gets printed: the QR code of an entrance as a PNG, and an A4 poster (SVG) with the venue,
//! the entrance, the category and the instruction to scan.

use std::fmt::Write as _;
use std::io::Cursor;

use image::{ImageFormat, Luma};
use qrcode::{Color, EcLevel, QrCode};

/// Medium error correction: readable with a quarter of the code scuffed, still low density.
const EC_LEVEL: EcLevel = EcLevel::M;
/// Pixels per module in the PNG; a version-3 code comes out at about 400 px.
const PNG_MODULE_PX: u32 = 12;

#[derive(Debug, thiserror::Error)]
pub enum PosterError {
    #[error("the text does not fit in a QR code: {0}")]
    TooLong(String),
    #[error("PNG encoding failed: {0}")]
    Png(String),
}

fn qr(url: &str) -> Result<QrCode, PosterError> {
    QrCode::with_error_correction_level(url.as_bytes(), EC_LEVEL)
        .map_err(|e| PosterError::TooLong(e.to_string()))
}

/// The code alone, black on white with the standard quiet zone.
pub fn code_png(url: &str) -> Result<Vec<u8>, PosterError> {
    let image = qr(url)?
        .render::<Luma<u8>>()
        .module_dimensions(PNG_MODULE_PX, PNG_MODULE_PX)
        .quiet_zone(true)
        .build();
    let mut png = Cursor::new(Vec::new());
    image
        .write_to(&mut png, ImageFormat::Png)
        .map_err(|e| PosterError::Png(e.to_string()))?;
    Ok(png.into_inner())
}

/// What the poster says besides the code.
pub struct PosterText<'a> {
    pub venue_name: &'a str,
    pub entrance_name: &'a str,
    pub category: &'a str,
    pub address: &'a str,
}

/// An A4 portrait poster (210 × 297 mm). Units are tenths of a millimetre.
pub fn poster_svg(url: &str, text: &PosterText<'_>) -> Result<String, PosterError> {
    let code = qr(url)?;
    let width = code.width();
    let colors = code.to_colors();
    // The code is 150 mm wide, centred, quiet zone included.
    let modules_with_quiet_zone = width + 8;
    let code_size = 1500.0;
    let module = code_size / modules_with_quiet_zone as f64;
    let origin_x = (2100.0 - code_size) / 2.0;
    let origin_y = 900.0;

    let mut path = String::new();
    for (index, color) in colors.iter().enumerate() {
        if *color == Color::Dark {
            let (x, y) = (index % width + 4, index / width + 4);
            let _ = write!(path, "M{x} {y}h1v1h-1z");
        }
    }

    let mut svg = String::new();
    let _ = write!(
        svg,
        r##"<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" width="210mm" height="297mm" viewBox="0 0 2100 2970">
  <title>{title}</title>
  <rect width="2100" height="2970" fill="#ffffff"/>
  <rect x="60" y="60" width="1980" height="2850" fill="none" stroke="#1a7f37" stroke-width="12" rx="40"/>
  <g font-family="'Noto Sans CJK SC','Source Han Sans SC','PingFang SC','Microsoft YaHei',sans-serif" text-anchor="middle" fill="#111111">
    <text x="1050" y="300" font-size="130" font-weight="bold">场所码</text>
    <text x="1050" y="500" font-size="{name_size}" font-weight="bold">{venue}</text>
    <text x="1050" y="640" font-size="80">入口：{entrance}</text>
    <text x="1050" y="760" font-size="60" fill="#444444">{category}</text>
  </g>
  <g transform="translate({origin_x:.1} {origin_y:.1}) scale({module:.4})">
    <rect width="{total}" height="{total}" fill="#ffffff"/>
    <path d="{path}" fill="#000000" shape-rendering="crispEdges"/>
  </g>
  <g font-family="'Noto Sans CJK SC','Source Han Sans SC','PingFang SC','Microsoft YaHei',sans-serif" text-anchor="middle" fill="#111111">
    <text x="1050" y="2560" font-size="80" font-weight="bold">请使用微信或支付宝“扫一扫”扫码登记</text>
    <text x="1050" y="2680" font-size="56">扫码后出示健康码状态，绿码通行</text>
    <text x="1050" y="2800" font-size="44" fill="#555555">{address}</text>
  </g>
</svg>
"##,
        title = escape(&format!("{} {}", text.venue_name, text.entrance_name)),
        venue = escape(text.venue_name),
        // Long legal names get a smaller font so they stay on the page.
        name_size = if text.venue_name.chars().count() > 16 {
            70
        } else {
            100
        },
        entrance = escape(text.entrance_name),
        category = escape(text.category),
        address = escape(text.address),
        total = modules_with_quiet_zone,
    );
    Ok(svg)
}

/// XML text escaping, for names typed by applicants.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const URL: &str = "HTTPS://CODE.EXAMPLE.GOV.CN/V/AEBAGBAFAYDQQCIKBMGA2DQPCA";

    #[test]
    fn a_poster_url_is_a_low_density_code() {
        // Version 3 (29 × 29) or less: readable from a poster by a cheap phone.
        assert!(qr(URL).unwrap().width() <= 29);
    }

    #[test]
    fn the_png_is_a_png() {
        let png = code_png(URL).unwrap();
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    }

    #[test]
    fn poster_text_is_escaped() {
        let svg = poster_svg(
            URL,
            &PosterText {
                venue_name: "<script>alert(1)</script>&Co",
                entrance_name: "东门",
                category: "医院",
                address: "舜峰镇",
            },
        )
        .unwrap();
        assert!(!svg.contains("<script>"));
        assert!(svg.contains("&lt;script&gt;alert(1)&lt;/script&gt;&amp;Co"));
        assert!(svg.contains("请使用微信或支付宝"));
    }
}
