//! Product photos: uploads re-encoded into renditions (upright, without EXIF),
//! refused when too large or not an image (nothing stored), served publicly with
//! long caching, attached to products of their own shop only — in a directory and
//! in a real S3-compatible server.

use crate::helpers::{MediaDir, Shop, goji, problem, shop, spawn_app_with};
use caravan_shared::TenantId;
use caravan_shared::tenancy::TenantTx;
use caravan_shared::testing::{TestApp, count, free_port};
use futures_util::StreamExt;
use image::{GenericImageView, ImageEncoder, Rgb, RgbImage, Rgba, RgbaImage};
use object_store::{ObjectStore, ObjectStoreExt};
use reqwest::Response;
use sea_orm::ConnectionTrait;
use serde_json::{Value, json};
use std::io::Write;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use uuid::Uuid;

const CACHE: &str = "public, max-age=31536000, immutable";

/// An APP1 segment with EXIF: orientation 6 (turn 90° clockwise to view) and a GPS
/// block (latitude and a map datum text easy to look for).
fn exif_segment() -> Vec<u8> {
    let mut tiff: Vec<u8> = b"MM\x00\x2a\x00\x00\x00\x08".to_vec();
    // IFD0 at 8: orientation, GPS pointer.
    tiff.extend([0x00, 0x02]);
    tiff.extend([0x01, 0x12, 0x00, 0x03, 0, 0, 0, 1, 0x00, 0x06, 0, 0]);
    tiff.extend([0x88, 0x25, 0x00, 0x04, 0, 0, 0, 1, 0, 0, 0, 38]);
    tiff.extend([0, 0, 0, 0]);
    // GPS IFD at 38: latitude ref, latitude (at 80), map datum (at 104).
    tiff.extend([0x00, 0x03]);
    tiff.extend([0x00, 0x01, 0x00, 0x02, 0, 0, 0, 2, b'N', 0, 0, 0]);
    tiff.extend([0x00, 0x02, 0x00, 0x05, 0, 0, 0, 3, 0, 0, 0, 80]);
    tiff.extend([0x00, 0x12, 0x00, 0x02, 0, 0, 0, 15, 0, 0, 0, 104]);
    tiff.extend([0, 0, 0, 0]);
    assert_eq!(tiff.len(), 80);
    for (numerator, denominator) in [(37u32, 1u32), (30, 1), (0, 1)] {
        tiff.extend(numerator.to_be_bytes());
        tiff.extend(denominator.to_be_bytes());
    }
    tiff.extend(b"WGS-84-CARAVAN\0");
    let mut segment = vec![0xff, 0xe1];
    let length = u16::try_from(2 + 6 + tiff.len()).unwrap();
    segment.extend(length.to_be_bytes());
    segment.extend(b"Exif\0\0");
    segment.extend(tiff);
    segment
}

/// A phone photo lying on its side: 800×400 as stored, red on the left and blue on
/// the right, with EXIF saying "turn 90° clockwise" — upright it is 400×800, red
/// on top.
fn phone_photo() -> Vec<u8> {
    let pixels = RgbImage::from_fn(800, 400, |x, _| {
        if x < 400 {
            Rgb([220, 20, 20])
        } else {
            Rgb([20, 20, 220])
        }
    });
    let mut jpeg = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 90)
        .encode_image(&pixels)
        .unwrap();
    assert_eq!(&jpeg[..2], [0xff, 0xd8]);
    let mut photo = jpeg[..2].to_vec();
    photo.extend(exif_segment());
    photo.extend(&jpeg[2..]);
    photo
}

fn png_chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend(u32::try_from(data.len()).unwrap().to_be_bytes());
    out.extend(kind);
    out.extend(data);
    let mut crc = flate2::Crc::new();
    crc.update(kind);
    crc.update(data);
    out.extend(crc.sum().to_be_bytes());
}

/// A valid black PNG of 8000×7500 (60 megapixels) in a few kilobytes: one bit a
/// pixel, compressed zeros.
fn huge_png() -> Vec<u8> {
    let (width, height) = (8000u32, 7500u32);
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut header = Vec::new();
    header.extend(width.to_be_bytes());
    header.extend(height.to_be_bytes());
    header.extend([1, 0, 0, 0, 0]); // 1-bit greyscale
    png_chunk(&mut out, b"IHDR", &header);
    let row = vec![0u8; 1 + (width as usize).div_ceil(8)];
    let mut encoder = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    for _ in 0..height {
        encoder.write_all(&row).unwrap();
    }
    png_chunk(&mut out, b"IDAT", &encoder.finish().unwrap());
    png_chunk(&mut out, b"IEND", &[]);
    out
}

/// A 500×300 PNG with a transparent corner.
fn transparent_png() -> Vec<u8> {
    let pixels = RgbaImage::from_fn(500, 300, |x, y| {
        if x < 100 && y < 100 {
            Rgba([0, 0, 0, 0])
        } else {
            Rgba([30, 160, 60, 255])
        }
    });
    let mut png = Vec::new();
    image::codecs::png::PngEncoder::new(&mut png)
        .write_image(pixels.as_raw(), 500, 300, image::ExtendedColorType::Rgba8)
        .unwrap();
    png
}

async fn upload(app: &TestApp, token: &str, body: Vec<u8>, content_type: &str) -> Response {
    app.client
        .post(app.url("/v1/media"))
        .bearer_auth(token)
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap()
}

async fn media_rows(app: &TestApp, shop: &Shop) -> i64 {
    let pool = caravan_shared::db::connect(&app.database.runtime_url, 1)
        .await
        .unwrap();
    let tx = TenantTx::begin(&pool, TenantId::from(shop.id))
        .await
        .unwrap();
    let n = count(tx.conn(), "SELECT count(*) AS n FROM media").await;
    tx.rollback().await.unwrap();
    n
}

async fn app_with_directory() -> (TestApp, MediaDir) {
    let dir = MediaDir::new();
    let app = spawn_app_with(&[("MEDIA_STORE", &dir.setting())]).await;
    (app, dir)
}

fn header<'a>(response: &'a Response, name: &str) -> &'a str {
    response
        .headers()
        .get(name)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_else(|| panic!("no {name} header"))
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle)
}

#[tokio::test]
async fn a_phone_photo_is_stood_upright_and_loses_its_exif() {
    let (app, dir) = app_with_directory().await;
    let a = shop(&app, "active", None).await;
    let photo = phone_photo();
    assert!(contains(&photo, b"Exif") && contains(&photo, b"WGS-84"));

    let created = upload(&app, &a.owner, photo, "image/jpeg").await;
    assert_eq!(created.status(), 201);
    let media: Value = created.json().await.unwrap();
    assert_eq!(media["width"], 400, "{media}");
    assert_eq!(media["height"], 800);
    assert_eq!(media["content_type"], "image/jpeg");
    let id = media["id"].as_str().unwrap();
    assert_eq!(Uuid::parse_str(id).unwrap().get_version_num(), 4);
    let sizes: Vec<(u64, u64)> = media["renditions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["width"].as_u64().unwrap(), r["height"].as_u64().unwrap()))
        .collect();
    // Never wider than the photo: 320, then the photo's own 400.
    assert_eq!(sizes, [(320, 640), (400, 800)]);
    assert_eq!(
        media["url"],
        format!("/media/{}/{id}/400.jpg", a.id),
        "the largest rendition"
    );
    assert_eq!(
        dir.files(),
        [
            format!("{}/{id}/320.jpg", a.id),
            format!("{}/{id}/400.jpg", a.id)
        ]
    );
    assert_eq!(media_rows(&app, &a).await, 1);

    for rendition in media["renditions"].as_array().unwrap() {
        let url = rendition["url"].as_str().unwrap();
        // Public: no token.
        let served = app.get(url).await;
        assert_eq!(served.status(), 200, "{url}");
        assert_eq!(header(&served, "content-type"), "image/jpeg");
        assert_eq!(header(&served, "cache-control"), CACHE);
        assert_eq!(header(&served, "x-content-type-options"), "nosniff");
        let etag = header(&served, "etag").to_owned();
        let bytes = served.bytes().await.unwrap();
        assert!(!contains(&bytes, b"Exif"), "{url} keeps EXIF");
        assert!(!contains(&bytes, b"WGS-84"), "{url} keeps GPS data");
        let image = image::load_from_memory(&bytes).unwrap();
        assert_eq!(
            (u64::from(image.width()), u64::from(image.height())),
            (
                rendition["width"].as_u64().unwrap(),
                rendition["height"].as_u64().unwrap()
            )
        );
        // Upright: red on top, blue below.
        let top = image.get_pixel(image.width() / 2, image.height() / 4);
        let bottom = image.get_pixel(image.width() / 2, image.height() * 3 / 4);
        assert!(top[0] > 150 && top[2] < 100, "top {top:?}");
        assert!(bottom[2] > 150 && bottom[0] < 100, "bottom {bottom:?}");
        // A cache asking again is told nothing changed.
        let again = app
            .client
            .get(app.url(url))
            .header("if-none-match", &etag)
            .send()
            .await
            .unwrap();
        assert_eq!(again.status(), 304);
    }

    // Anything else under /media is unknown.
    let tenant = a.id.to_string();
    for path in [
        format!("/media/{tenant}/{id}/640.jpg"),
        format!("/media/{tenant}/{id}/400.webp"),
        format!("/media/{tenant}/{id}/400.png"),
        format!("/media/{tenant}/{id}/0400.jpg"),
        format!("/media/{tenant}/{id}/400.jpg.jpg"),
        format!("/media/{}/{id}/400.jpg", tenant.to_uppercase()),
        format!("/media/{}/{id}/400.jpg", Uuid::now_v7()),
        format!("/media/{tenant}/{}/400.jpg", Uuid::new_v4()),
        format!("/media/{tenant}/{}/400.jpg", id.replace('-', "")),
        format!("/media/{tenant}/{id}/%2e%2e"),
        "/media/x/y/z".to_owned(),
    ] {
        problem(app.get(&path).await, 404).await;
    }
    // Uploading needs the scope.
    let anonymous = app
        .client
        .post(app.url("/v1/media"))
        .body(phone_photo())
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
    let reader = app.keys.member(
        a.id,
        caravan_shared::identity::Role::Staff,
        &["catalog:read"],
    );
    assert_eq!(
        upload(&app, &reader, phone_photo(), "image/jpeg")
            .await
            .status(),
        403
    );
    assert_eq!(media_rows(&app, &a).await, 1);
}

#[tokio::test]
async fn too_many_pixels_are_refused_before_decoding_and_nothing_is_stored() {
    let (app, dir) = app_with_directory().await;
    let a = shop(&app, "active", None).await;
    let png = huge_png();
    assert!(png.len() < 200_000, "{} bytes", png.len());
    let body = problem(
        upload(&app, &a.owner, png, "application/octet-stream").await,
        422,
    )
    .await;
    assert_eq!(body["errors"][0]["field"], "file", "{body}");
    let message = body["errors"][0]["message"].as_str().unwrap();
    assert!(
        message.contains("8000×7500") && message.contains("megapixels"),
        "{message}"
    );
    assert_eq!(media_rows(&app, &a).await, 0);
    assert!(dir.files().is_empty(), "{:?}", dir.files());
}

#[tokio::test]
async fn what_is_not_a_photo_is_refused_and_nothing_is_stored() {
    let (app, dir) = app_with_directory().await;
    let a = shop(&app, "active", None).await;
    // A text file named photo.jpg, sent as a JPEG.
    let body = problem(
        app.client
            .post(app.url("/v1/media"))
            .bearer_auth(&a.owner)
            .header("content-type", "image/jpeg")
            .header("content-disposition", "attachment; filename=\"photo.jpg\"")
            .body("Harvest notes: 3 t of goji picked on Tuesday.\n")
            .send()
            .await
            .unwrap(),
        415,
    )
    .await;
    assert_eq!(body["errors"][0]["field"], "file", "{body}");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("JPEG, PNG or WebP"),
        "{body}"
    );
    // A file that starts like a JPEG and is nothing after: damaged, 422.
    let mut damaged = b"\xff\xd8\xff".to_vec();
    damaged.extend(b"harvest notes, not a photo");
    let body = problem(upload(&app, &a.owner, damaged, "image/jpeg").await, 422).await;
    assert_eq!(body["errors"][0]["field"], "file", "{body}");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("could not be read as a JPEG image"),
        "{body}"
    );
    // (A JPEG cut short after valid scans is decoded as far as it goes, like
    // browsers do, and stored re-encoded: harmless.)
    // Another format (GIF) is not accepted either.
    let gif = b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;".to_vec();
    problem(upload(&app, &a.owner, gif, "image/gif").await, 415).await;
    assert_eq!(media_rows(&app, &a).await, 0);
    assert!(dir.files().is_empty(), "{:?}", dir.files());
}

#[tokio::test]
async fn a_body_over_15_mib_gets_a_clear_413_and_nothing_is_stored() {
    let (app, dir) = app_with_directory().await;
    let a = shop(&app, "active", None).await;
    let mut body = phone_photo();
    body.resize(20_000_000, 0);
    let answer = problem(upload(&app, &a.owner, body, "image/jpeg").await, 413).await;
    assert!(
        answer["detail"].as_str().unwrap().contains("15 MiB"),
        "{answer}"
    );
    assert_eq!(media_rows(&app, &a).await, 0);
    assert!(dir.files().is_empty(), "{:?}", dir.files());
    // The connection was not cut: the service still answers.
    assert_eq!(
        upload(&app, &a.owner, phone_photo(), "image/jpeg")
            .await
            .status(),
        201
    );
}

#[tokio::test]
async fn transparent_images_become_lossless_webp() {
    let (app, dir) = app_with_directory().await;
    let a = shop(&app, "active", None).await;
    let created = upload(&app, &a.owner, transparent_png(), "image/png").await;
    assert_eq!(created.status(), 201);
    let media: Value = created.json().await.unwrap();
    assert_eq!(media["content_type"], "image/webp", "{media}");
    assert_eq!(
        (media["width"].as_u64(), media["height"].as_u64()),
        (Some(500), Some(300))
    );
    let widths: Vec<u64> = media["renditions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["width"].as_u64().unwrap())
        .collect();
    assert_eq!(widths, [320, 500]);
    assert!(media["url"].as_str().unwrap().ends_with("/500.webp"));
    assert_eq!(dir.files().len(), 2);
    let served = app.get(media["url"].as_str().unwrap()).await;
    assert_eq!(served.status(), 200);
    assert_eq!(header(&served, "content-type"), "image/webp");
    assert_eq!(header(&served, "cache-control"), CACHE);
    let image = image::load_from_memory(&served.bytes().await.unwrap()).unwrap();
    assert_eq!(image.dimensions(), (500, 300));
    assert_eq!(image.get_pixel(10, 10)[3], 0, "transparent corner kept");
    assert_eq!(
        image.get_pixel(300, 200),
        Rgba([30, 160, 60, 255]),
        "lossless"
    );
}

#[tokio::test]
async fn uploads_are_attached_to_products_of_their_own_shop_only() {
    let (app, _dir) = app_with_directory().await;
    let a = shop(&app, "active", None).await;
    let b = shop(&app, "active", None).await;
    let media: Value = upload(&app, &a.owner, phone_photo(), "image/jpeg")
        .await
        .json()
        .await
        .unwrap();
    let media_id = media["id"].as_str().unwrap();

    // Shop B cannot use it, and cannot tell it from an id nobody has.
    let mut theirs = goji("stolen", "STOLEN-1", 1);
    theirs["images"] = json!([{"media_id": media_id, "alt": "not ours"}]);
    let stolen = problem(app.post_with(&b.owner, "/v1/products", &theirs).await, 422).await;
    theirs["images"] = json!([{"media_id": Uuid::new_v4(), "alt": "not ours"}]);
    let unknown = problem(app.post_with(&b.owner, "/v1/products", &theirs).await, 422).await;
    assert_eq!(
        stolen["errors"],
        json!([{"field": "images[0].media_id", "message": "no such upload"}])
    );
    assert_eq!(stolen["errors"], unknown["errors"]);
    assert_eq!(stolen["detail"], unknown["detail"]);
    let listed: Value = app
        .get_with(&b.owner, "/v1/products")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed["items"], json!([]));
    assert!(!listed.to_string().contains(media_id));

    // Exactly one of url and media_id.
    let mut both = goji("both", "BOTH-1", 1);
    both["images"] = json!([{"media_id": media_id, "url": "https://cdn.example.cn/a.jpg"}]);
    let body = problem(app.post_with(&a.owner, "/v1/products", &both).await, 422).await;
    assert_eq!(body["errors"][0]["field"], "images[0]", "{body}");
    both["images"] = json!([{"alt": "nothing"}]);
    let body = problem(app.post_with(&a.owner, "/v1/products", &both).await, 422).await;
    assert_eq!(body["errors"][0]["field"], "images[0]", "{body}");

    // Shop A's product shows the photo with its renditions; URL images as before.
    let mut ours = goji("goji-photo", "PHOTO-1", 3);
    ours["images"] = json!([
        {"media_id": media_id, "alt": "Goji on the drying racks"},
        {"url": "https://cdn.zhongning-goji.cn/goji.jpg", "alt": "Goji"}
    ]);
    let created = app.post_with(&a.owner, "/v1/products", &ours).await;
    assert_eq!(created.status(), 201);
    let product: Value = created.json().await.unwrap();
    let check = |images: &Value| {
        let photo = &images[0];
        assert_eq!(photo["media_id"], media_id, "{images}");
        assert_eq!(photo["url"], media["url"]);
        assert_eq!(photo["alt"], "Goji on the drying racks");
        assert_eq!(
            (photo["width"].as_u64(), photo["height"].as_u64()),
            (Some(400), Some(800))
        );
        assert_eq!(photo["renditions"], media["renditions"]);
        let linked = &images[1];
        assert_eq!(
            linked,
            &json!({"url": "https://cdn.zhongning-goji.cn/goji.jpg", "alt": "Goji"})
        );
    };
    check(&product["images"]);
    let id = product["id"].as_str().unwrap();
    let shown: Value = app
        .get_with(&a.owner, &format!("/v1/products/{id}"))
        .await
        .json()
        .await
        .unwrap();
    check(&shown["images"]);
    let listed: Value = app
        .get_with(&a.owner, "/v1/products")
        .await
        .json()
        .await
        .unwrap();
    check(&listed["items"][0]["images"]);
    let storefront: Value = app
        .get(&format!("/v1/shops/{}/products", a.slug))
        .await
        .json()
        .await
        .unwrap();
    check(&storefront["items"][0]["images"]);
    let detail: Value = app
        .get(&format!("/v1/shops/{}/products/goji-photo", a.slug))
        .await
        .json()
        .await
        .unwrap();
    check(&detail["images"]);

    // A change of other fields keeps the photo; a change of images checks them again.
    let patched: Value = app
        .patch_with(
            &a.owner,
            &format!("/v1/products/{id}"),
            &json!({"tags": ["goji"]}),
        )
        .await
        .json()
        .await
        .unwrap();
    check(&patched["images"]);
    let refused = app
        .patch_with(
            &a.owner,
            &format!("/v1/products/{id}"),
            &json!({"images": [{"media_id": Uuid::new_v4()}]}),
        )
        .await;
    let body = problem(refused, 422).await;
    assert_eq!(body["errors"][0]["field"], "images[0].media_id", "{body}");
    let reordered: Value = app
        .patch_with(
            &a.owner,
            &format!("/v1/products/{id}"),
            &json!({"images": [{"media_id": media_id}]}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(reordered["images"][0]["url"], media["url"], "{reordered}");
    assert!(reordered["images"][0]["alt"].is_null());

    // The CSV export still works with photos on products.
    let export = app.get_with(&a.owner, "/v1/products/export").await;
    assert_eq!(export.status(), 200);
}

/// A moto S3 server on a port of its own, stopped with the test.
struct S3Server {
    child: Child,
    endpoint: String,
}

impl Drop for S3Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn s3_server_program() -> PathBuf {
    if let Ok(program) = std::env::var("CARAVAN_S3_SERVER") {
        return PathBuf::from(program);
    }
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let program = root.join("tools/s3/venv/bin/moto_server");
    assert!(
        program.exists(),
        "the S3 test server is not installed ({} is missing): run deploy/scripts/ensure-services.sh, \
         which installs moto[server] into tools/s3/venv (or set CARAVAN_S3_SERVER to a moto_server)",
        program.display()
    );
    program
}

async fn start_s3_server() -> S3Server {
    let port = free_port();
    let child = Command::new(s3_server_program())
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("moto_server starts");
    let server = S3Server {
        child,
        endpoint: format!("http://127.0.0.1:{port}"),
    };
    let client = reqwest::Client::new();
    for _ in 0..100 {
        if client.get(&server.endpoint).send().await.is_ok() {
            return server;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("moto_server did not answer on {}", server.endpoint);
}

#[tokio::test]
async fn photos_go_to_an_s3_bucket_and_come_back() {
    let s3 = start_s3_server().await;
    let bucket = format!("caravan-{}", &Uuid::new_v4().simple().to_string()[..12]);
    let made = reqwest::Client::new()
        .put(format!("{}/{bucket}", s3.endpoint))
        .send()
        .await
        .unwrap();
    assert!(made.status().is_success(), "{}", made.status());
    let app = spawn_app_with(&[
        ("MEDIA_STORE", &format!("s3://{bucket}")),
        ("MEDIA_S3_ENDPOINT", &s3.endpoint),
        ("MEDIA_S3_ALLOW_HTTP", "true"),
        ("MEDIA_S3_REGION", "us-east-1"),
        ("MEDIA_S3_ACCESS_KEY_ID", "caravan-test"),
        ("MEDIA_S3_SECRET_ACCESS_KEY", "caravan-test-secret"),
    ])
    .await;
    let a = shop(&app, "active", None).await;
    let created = upload(&app, &a.owner, phone_photo(), "image/jpeg").await;
    assert_eq!(created.status(), 201);
    let media: Value = created.json().await.unwrap();
    let url = media["url"].as_str().unwrap();
    let served = app.get(url).await;
    assert_eq!(served.status(), 200);
    assert_eq!(header(&served, "content-type"), "image/jpeg");
    assert_eq!(header(&served, "cache-control"), CACHE);
    let bytes = served.bytes().await.unwrap();
    assert!(!contains(&bytes, b"Exif"));
    // The object is in the bucket, under the same key.
    let key = url.strip_prefix("/media/").unwrap();
    let bucket_store = object_store::aws::AmazonS3Builder::new()
        .with_bucket_name(&bucket)
        .with_region("us-east-1")
        .with_endpoint(&s3.endpoint)
        .with_allow_http(true)
        .with_virtual_hosted_style_request(false)
        .with_access_key_id("caravan-test")
        .with_secret_access_key("caravan-test-secret")
        .build()
        .unwrap();
    let stored = bucket_store
        .get(&object_store::path::Path::from(key))
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(stored, bytes);
    let listed: Vec<_> = bucket_store.list(None).collect().await;
    assert_eq!(listed.len(), 2, "320 and 400 wide: {listed:?}");
    problem(
        app.get(&format!(
            "/media/{}/{}/1280.jpg",
            a.id,
            media["id"].as_str().unwrap()
        ))
        .await,
        404,
    )
    .await;
}

/// A stored upload the code cannot read (a format it does not know, renditions or a
/// size it cannot read) is an internal error, logged and answered 500; never a
/// photo shown as a JPEG it is not, or with no size and no URL.
#[tokio::test]
async fn an_unreadable_media_row_is_an_internal_error_not_a_guessed_photo() {
    let (app, _dir) = app_with_directory().await;
    let a = shop(&app, "active", None).await;
    let media: Value = upload(&app, &a.owner, phone_photo(), "image/jpeg")
        .await
        .json()
        .await
        .unwrap();
    let media_id = media["id"].as_str().unwrap().to_owned();
    let owner = caravan_shared::db::connect(&app.database.owner_url, 1)
        .await
        .unwrap();
    owner
        .execute_unprepared(
            "ALTER TABLE media DROP CONSTRAINT media_content_type_check, \
             DROP CONSTRAINT media_width_check",
        )
        .await
        .unwrap();
    let (content_type, renditions): (String, Value) = (
        media["content_type"].as_str().unwrap().to_owned(),
        json!(
            media["renditions"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| { json!({"width": r["width"], "height": r["height"], "bytes": 1}) })
                .collect::<Vec<_>>()
        ),
    );
    let unreadable = [
        format!("content_type = 'image/png', renditions = '{renditions}'"),
        format!("content_type = '{content_type}', renditions = '\"oops\"'"),
        format!("content_type = '{content_type}', renditions = '[]'"),
        format!("renditions = '{renditions}', width = 0"),
    ];
    for (n, change) in unreadable.iter().enumerate() {
        owner
            .execute_unprepared(&format!(
                "UPDATE media SET {change} WHERE id = '{media_id}'"
            ))
            .await
            .unwrap();
        let mut product = goji(&format!("goji-{n}"), &format!("G-{n}"), 1);
        product["images"] = json!([{"media_id": media_id, "alt": "Goji"}]);
        let answer = app.post_with(&a.owner, "/v1/products", &product).await;
        let body = problem(answer, 500).await;
        assert_eq!(body["code"], "internal_error", "{change}: {body}");
    }

    // Readable again: attached again.
    owner
        .execute_unprepared(&format!(
            "UPDATE media SET content_type = '{content_type}', renditions = '{renditions}', \
             width = {} WHERE id = '{media_id}'",
            media["width"]
        ))
        .await
        .unwrap();
    let mut product = goji("goji-ok", "G-OK", 1);
    product["images"] = json!([{"media_id": media_id, "alt": "Goji"}]);
    let answer = app.post_with(&a.owner, "/v1/products", &product).await;
    assert_eq!(answer.status(), 201);
}
