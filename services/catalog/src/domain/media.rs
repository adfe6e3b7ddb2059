//! Product photos: what an upload may be, and the renditions made from it.
//!
//! A phone photo arrives as it left the camera: large, possibly lying on its side
//! with an EXIF orientation, and carrying EXIF metadata (GPS position, device). The
//! upload is decoded once, stood upright, and re-encoded at a few widths; the
//! original bytes are never kept, so no metadata leaves with the photo.

use image::codecs::jpeg::JpegEncoder;
use image::codecs::webp::WebPEncoder;
use image::imageops::FilterType;
use image::{DynamicImage, ExtendedColorType, ImageDecoder, ImageFormat, ImageReader, Limits};
use std::io::Cursor;
use uuid::Uuid;

/// The largest upload accepted: 15 MiB.
pub const MAX_UPLOAD_BYTES: usize = 15 * 1024 * 1024;
/// The most pixels an upload may have: 40 megapixels.
pub const MAX_PIXELS: u64 = 40_000_000;
/// The longest side an upload may have.
pub const MAX_SIDE: u32 = 12_000;
/// The most memory the decoder may allocate: 40 megapixels of 16-bit RGBA, the
/// largest image that passes the checks above. A file that lies about its size
/// (a decompression bomb) stops here.
pub const MAX_DECODE_ALLOC: u64 = MAX_PIXELS * 8 + 16 * 1024 * 1024;
/// Widths of the renditions; the original width counts as the largest when smaller.
pub const RENDITION_WIDTHS: [u32; 3] = [320, 640, 1280];
/// JPEG quality of opaque renditions.
pub const JPEG_QUALITY: u8 = 82;

/// The formats an upload may be in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UploadFormat {
    /// JPEG.
    Jpeg,
    /// PNG.
    Png,
    /// WebP.
    WebP,
}

impl UploadFormat {
    fn image_format(self) -> ImageFormat {
        match self {
            Self::Jpeg => ImageFormat::Jpeg,
            Self::Png => ImageFormat::Png,
            Self::WebP => ImageFormat::WebP,
        }
    }
}

/// The encoding of stored renditions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RenditionFormat {
    /// Opaque photos: JPEG.
    Jpeg,
    /// Photos with transparency: lossless WebP.
    WebP,
}

impl RenditionFormat {
    /// The file extension of its objects.
    pub fn extension(self) -> &'static str {
        match self {
            Self::Jpeg => "jpg",
            Self::WebP => "webp",
        }
    }

    /// Its media type.
    pub fn content_type(self) -> &'static str {
        match self {
            Self::Jpeg => "image/jpeg",
            Self::WebP => "image/webp",
        }
    }

    /// The format of a stored file's extension.
    pub fn from_extension(extension: &str) -> Option<Self> {
        match extension {
            "jpg" => Some(Self::Jpeg),
            "webp" => Some(Self::WebP),
            _ => None,
        }
    }

    /// The format of a stored media type.
    pub fn from_content_type(content_type: &str) -> Option<Self> {
        match content_type {
            "image/jpeg" => Some(Self::Jpeg),
            "image/webp" => Some(Self::WebP),
            _ => None,
        }
    }
}

/// Why an upload is refused; each names its reason for the caller.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// Not an image in a format accepted.
    #[error("is not a JPEG, PNG or WebP image")]
    NotAnImage,
    /// Too many pixels or a side too long.
    #[error(
        "is {width}×{height} pixels; at most 40 megapixels and 12000 pixels a side are accepted"
    )]
    TooLarge {
        /// Width of the upload.
        width: u32,
        /// Height of the upload.
        height: u32,
    },
    /// The file is damaged or lies about itself.
    #[error("could not be read as a {format} image: {reason}")]
    Corrupt {
        /// The format it claims.
        format: &'static str,
        /// What went wrong.
        reason: String,
    },
}

/// Finds the format of `bytes` by their content (never by a name or header).
pub fn sniff(bytes: &[u8]) -> Result<UploadFormat, Refusal> {
    let reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|_| Refusal::NotAnImage)?;
    match reader.format() {
        Some(ImageFormat::Jpeg) => Ok(UploadFormat::Jpeg),
        Some(ImageFormat::Png) => Ok(UploadFormat::Png),
        Some(ImageFormat::WebP) => Ok(UploadFormat::WebP),
        _ => Err(Refusal::NotAnImage),
    }
}

fn format_name(format: UploadFormat) -> &'static str {
    match format {
        UploadFormat::Jpeg => "JPEG",
        UploadFormat::Png => "PNG",
        UploadFormat::WebP => "WebP",
    }
}

fn corrupt(format: UploadFormat, error: &image::ImageError) -> Refusal {
    match error {
        image::ImageError::Limits(_) => Refusal::Corrupt {
            format: format_name(format),
            reason: "it needs more memory to decode than its size allows".to_owned(),
        },
        other => Refusal::Corrupt {
            format: format_name(format),
            reason: other.to_string(),
        },
    }
}

/// One encoded rendition.
#[derive(Debug, Clone)]
pub struct Rendition {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// The encoded file.
    pub bytes: Vec<u8>,
}

/// An upload made ready to store.
#[derive(Debug, Clone)]
pub struct Processed {
    /// Width of the upright photo.
    pub width: u32,
    /// Height of the upright photo.
    pub height: u32,
    /// The encoding of every rendition.
    pub format: RenditionFormat,
    /// Smallest first; the last is the largest.
    pub renditions: Vec<Rendition>,
}

/// The widths to make for a photo `width` pixels wide: never wider than it.
pub fn rendition_widths(width: u32) -> Vec<u32> {
    let mut widths: Vec<u32> = RENDITION_WIDTHS
        .iter()
        .copied()
        .filter(|&w| w < width)
        .collect();
    if widths.len() < RENDITION_WIDTHS.len() {
        widths.push(width);
    }
    widths
}

/// The height of a rendition `width` wide, keeping the aspect ratio.
pub fn scaled_height(width: u32, height: u32, to_width: u32) -> u32 {
    let scaled =
        (u64::from(height) * u64::from(to_width) + u64::from(width) / 2) / u64::from(width);
    u32::try_from(scaled.max(1)).unwrap_or(u32::MAX)
}

/// Checks, decodes, stands upright and re-encodes an upload. CPU-heavy: run it on
/// the blocking pool.
pub fn process(bytes: &[u8]) -> Result<Processed, Refusal> {
    let format = sniff(bytes)?;
    // The header first: a file claiming too many pixels is refused before any
    // pixel is decoded.
    let mut reader = ImageReader::new(Cursor::new(bytes));
    reader.set_format(format.image_format());
    let (width, height) = reader
        .into_dimensions()
        .map_err(|error| corrupt(format, &error))?;
    if u64::from(width) * u64::from(height) > MAX_PIXELS || width > MAX_SIDE || height > MAX_SIDE {
        return Err(Refusal::TooLarge { width, height });
    }
    let mut reader = ImageReader::new(Cursor::new(bytes));
    reader.set_format(format.image_format());
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(MAX_DECODE_ALLOC);
    reader.limits(limits);
    let mut decoder = reader
        .into_decoder()
        .map_err(|error| corrupt(format, &error))?;
    // A missing or unreadable orientation leaves the photo as stored.
    let orientation = decoder
        .orientation()
        .unwrap_or(image::metadata::Orientation::NoTransforms);
    let mut photo = DynamicImage::from_decoder(decoder).map_err(|error| corrupt(format, &error))?;
    photo.apply_orientation(orientation);
    encode_renditions(&photo).map_err(|error| corrupt(format, &error))
}

/// Whether any pixel lets the background show through.
fn is_transparent(photo: &DynamicImage) -> bool {
    if !photo.color().has_alpha() {
        return false;
    }
    match photo {
        DynamicImage::ImageLumaA8(image) => image.pixels().any(|p| p.0[1] < u8::MAX),
        DynamicImage::ImageRgba8(image) => image.pixels().any(|p| p.0[3] < u8::MAX),
        DynamicImage::ImageLumaA16(image) => image.pixels().any(|p| p.0[1] < u16::MAX),
        DynamicImage::ImageRgba16(image) => image.pixels().any(|p| p.0[3] < u16::MAX),
        other => other.to_rgba8().pixels().any(|p| p.0[3] < u8::MAX),
    }
}

fn encode_renditions(photo: &DynamicImage) -> image::ImageResult<Processed> {
    let (width, height) = (photo.width(), photo.height());
    let format = if is_transparent(photo) {
        RenditionFormat::WebP
    } else {
        RenditionFormat::Jpeg
    };
    let widths = rendition_widths(width);
    let mut renditions = Vec::with_capacity(widths.len());
    // Largest first, each smaller one from the previous: quick and as sharp, and
    // the full-size photo is never copied.
    let mut previous: Option<DynamicImage> = None;
    for &to_width in widths.iter().rev() {
        let to_height = scaled_height(width, height, to_width);
        let from = previous.as_ref().unwrap_or(photo);
        let resized = ((from.width(), from.height()) != (to_width, to_height))
            .then(|| from.resize_exact(to_width, to_height, FilterType::CatmullRom));
        let bytes = encode(resized.as_ref().unwrap_or(from), format)?;
        renditions.push(Rendition {
            width: to_width,
            height: to_height,
            bytes,
        });
        if resized.is_some() {
            previous = resized;
        }
    }
    renditions.reverse();
    Ok(Processed {
        width,
        height,
        format,
        renditions,
    })
}

fn encode(image: &DynamicImage, format: RenditionFormat) -> image::ImageResult<Vec<u8>> {
    let mut out = Vec::new();
    match format {
        RenditionFormat::Jpeg => {
            let rgb = image.to_rgb8();
            JpegEncoder::new_with_quality(&mut out, JPEG_QUALITY).encode_image(&rgb)?;
        }
        RenditionFormat::WebP => {
            let rgba = image.to_rgba8();
            WebPEncoder::new_lossless(&mut out).encode(
                rgba.as_raw(),
                rgba.width(),
                rgba.height(),
                ExtendedColorType::Rgba8,
            )?;
        }
    }
    Ok(out)
}

/// Where a rendition is stored, and the same-origin path it is served at
/// (`/media/{key}`): `{tenant_id}/{media_id}/{width}.{jpg|webp}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MediaKey {
    /// The shop.
    pub tenant: Uuid,
    /// The upload.
    pub media: Uuid,
    /// The rendition's width.
    pub width: u32,
    /// Its encoding.
    pub format: RenditionFormat,
}

/// A UUID written exactly as this service writes them: lowercase and hyphenated.
fn strict_uuid(segment: &str) -> Option<Uuid> {
    let id = Uuid::try_parse(segment).ok()?;
    (segment.len() == 36 && id.hyphenated().to_string() == segment).then_some(id)
}

impl MediaKey {
    /// Parses the three path segments of a served file, strictly: two UUIDs and
    /// `^\d+\.(jpg|webp)$` (at most 5 digits, no leading zero).
    pub fn parse(tenant: &str, media: &str, file: &str) -> Option<Self> {
        let (digits, extension) = file.split_once('.')?;
        let valid_digits = !digits.is_empty()
            && digits.len() <= 5
            && digits.bytes().all(|b| b.is_ascii_digit())
            && !digits.starts_with('0');
        if !valid_digits {
            return None;
        }
        Some(Self {
            tenant: strict_uuid(tenant)?,
            media: strict_uuid(media)?,
            width: digits.parse().ok()?,
            format: RenditionFormat::from_extension(extension)?,
        })
    }

    /// The object's key in the store.
    pub fn object_key(&self) -> String {
        format!(
            "{}/{}/{}.{}",
            self.tenant.hyphenated(),
            self.media.hyphenated(),
            self.width,
            self.format.extension()
        )
    }

    /// The path it is served at.
    pub fn url(&self) -> String {
        format!("/media/{}", self.object_key())
    }

    /// A strong validator: the key never names two different contents.
    pub fn etag(&self) -> String {
        format!("\"{}-{}\"", self.media.simple(), self.width)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renditions_are_never_wider_than_the_photo() {
        assert_eq!(rendition_widths(4000), vec![320, 640, 1280]);
        assert_eq!(rendition_widths(1280), vec![320, 640, 1280]);
        assert_eq!(rendition_widths(1000), vec![320, 640, 1000]);
        assert_eq!(rendition_widths(640), vec![320, 640]);
        assert_eq!(rendition_widths(200), vec![200]);
        assert_eq!(scaled_height(4000, 3000, 320), 240);
        assert_eq!(scaled_height(3000, 1, 320), 1);
    }

    #[test]
    fn served_paths_are_parsed_strictly() {
        let tenant = "0193a7c4-5a02-7c11-8e4b-6d7f8a9b0c1d";
        let media = "5f0c6f7e-3f7a-4b6e-9a53-2d1c0b9e8f7a";
        let key = MediaKey::parse(tenant, media, "640.jpg").unwrap();
        assert_eq!(key.width, 640);
        assert_eq!(key.url(), format!("/media/{tenant}/{media}/640.jpg"));
        for (t, m, f) in [
            (tenant, media, "640.png"),
            (tenant, media, "640.jpg.jpg"),
            (tenant, media, "0640.jpg"),
            (tenant, media, "x.jpg"),
            (tenant, media, ".jpg"),
            (tenant, media, "1234567.webp"),
            (tenant, media, "640"),
            (&tenant.to_uppercase(), media, "640.jpg"),
            (&tenant.replace('-', ""), media, "640.jpg"),
            (tenant, "..", "640.jpg"),
        ] {
            assert!(MediaKey::parse(t, m, f).is_none(), "{t}/{m}/{f}");
        }
    }

    #[test]
    fn text_is_not_an_image() {
        assert_eq!(
            sniff(b"hello, this is not a photo"),
            Err(Refusal::NotAnImage)
        );
        assert_eq!(
            process(b"GIF89a\x01\x00\x01\x00").unwrap_err(),
            Refusal::NotAnImage
        );
    }
}
