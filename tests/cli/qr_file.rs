//! `otp setup --qr FILE`: the key URI's QR code as a PNG or SVG file, 0600, never over an
//! existing file, read back by an independent decoder (rqrr) to the very URI printed.

use crate::harness::*;

fn setup_with_qr(w: &World, file: &str) -> Run {
    w.run(&["otp", "setup", "--user", MAKER, "--app", "--password-stdin", "--qr", file], Some(&line(PASSWORD)))
}

/// Decode a greyscale picture with rqrr: the one QR code's text.
fn decode(width: usize, height: usize, pixel: impl FnMut(usize, usize) -> u8) -> String {
    let mut img = rqrr::PreparedImage::prepare_from_greyscale(width, height, pixel);
    let grids = img.detect_grids();
    assert_eq!(grids.len(), 1, "one QR code in the picture");
    grids[0].decode().expect("the QR code decodes").1
}

#[test]
fn a_png_qr_file_decodes_to_the_key_uri_and_is_private() {
    let w = World::ready();
    let r = setup_with_qr(&w, "key.png").ok();
    let v = r.json();
    let uri = v["otpauth_uri"].as_str().expect("the key URI is still printed").to_string();
    assert_eq!(v["qr_file"], "key.png", "{v}");
    let path = w.path("key.png");
    assert_eq!(mode(&path), 0o600, "the key is a secret");
    assert!(
        r.warnings().iter().any(|m| m.contains("key.png") && m.contains("secret key") && m.contains("delete")),
        "the user is told to delete it:\n{r}"
    );

    let bytes = std::fs::read(&path).expect("the PNG");
    let mut reader = png::Decoder::new(std::io::Cursor::new(bytes)).read_info().expect("a PNG");
    let mut buf = vec![0; reader.output_buffer_size().expect("a size")];
    let info = reader.next_frame(&mut buf).expect("a frame");
    assert_eq!((info.color_type, info.bit_depth), (png::ColorType::Grayscale, png::BitDepth::Eight));
    let (width, height) = (info.width as usize, info.height as usize);
    assert_eq!(decode(width, height, |x, y| buf[y * info.line_size + x]), uri);

    // A 4-module quiet zone (8 pixels a module): the margin is white all round.
    let margin = 4 * 8;
    for y in 0..height {
        for x in 0..width {
            if x < margin || y < margin || x >= width - margin || y >= height - margin {
                assert_eq!(buf[y * info.line_size + x], 255, "pixel ({x},{y}) of the quiet zone");
            }
        }
    }

    // The key in the picture is the one the app then uses: the first code confirms it.
    w.set_key(MAKER, &secret_of(&uri));
    w.login(MAKER).ok();
}

/// The dark modules an SVG written by `--qr` draws: its path is `M{x} {y}h{run}v1h-{run}z`
/// rectangles, one module a unit.
fn svg_modules(svg: &str, size: usize) -> Vec<Vec<bool>> {
    let d = svg.split(" d=\"").nth(1).and_then(|s| s.split('"').next()).expect("a path");
    let mut m = vec![vec![false; size]; size];
    for rect in d.split('M').filter(|r| !r.is_empty()) {
        let rect = rect.strip_suffix('z').expect("a closed rectangle");
        let (xy, rest) = rect.split_once('h').expect("a run");
        let (x, y) = xy.split_once(' ').expect("x y");
        let (run, back) = rest.split_once("v1h-").expect("one module high");
        assert_eq!(run, back, "a rectangle");
        let (x, y, run): (usize, usize, usize) =
            (x.parse().expect("x"), y.parse().expect("y"), run.parse().expect("run"));
        for cell in &mut m[y][x..x + run] {
            *cell = true;
        }
    }
    m
}

#[test]
fn an_svg_qr_file_is_well_formed_and_its_modules_decode_to_the_key_uri() {
    let w = World::ready();
    let v = setup_with_qr(&w, "key.SVG").ok().json();
    let uri = v["otpauth_uri"].as_str().expect("uri");
    let path = w.path("key.SVG");
    assert_eq!(mode(&path), 0o600);
    let svg = std::fs::read_to_string(&path).expect("the SVG");

    // Well-formed: the XML declaration, one <svg> root holding a <rect/> and a <path/>, closed.
    let body: Vec<&str> = svg.lines().collect();
    assert!(body[0].starts_with("<?xml version=\"1.0\""), "{svg}");
    assert!(body[1].starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""), "{svg}");
    assert!(body[2].starts_with("<rect ") && body[2].ends_with("/>"), "{svg}");
    assert!(body[3].starts_with("<path ") && body[3].ends_with("/>"), "{svg}");
    assert_eq!(body[4..], ["</svg>"], "{svg}");
    assert_eq!(svg.matches('<').count(), svg.matches('>').count(), "{svg}");
    let size: usize = svg
        .split("viewBox=\"0 0 ")
        .nth(1)
        .and_then(|s| s.split(' ').next())
        .and_then(|n| n.parse().ok())
        .expect("a square viewBox");
    let modules = svg_modules(&svg, size);
    for i in 0..4 {
        assert!(!modules[i].iter().any(|d| *d) && !modules.iter().any(|r| r[i]), "quiet zone {i}");
        assert!(!modules[size - 1 - i].iter().any(|d| *d) && !modules.iter().any(|r| r[size - 1 - i]));
    }
    let scale = 4;
    assert_eq!(decode(size * scale, size * scale, |x, y| if modules[y / scale][x / scale] { 0 } else { 255 }), uri);
}

#[test]
fn qr_files_are_refused_before_anything_is_set_up() {
    let w = World::ready();

    // Never over an existing file (nor through a link).
    w.write("taken.png", "mine");
    setup_with_qr(&w, "taken.png").refused(Exit::Conflict, &["taken.png", "exists"]);
    assert_eq!(std::fs::read_to_string(w.path("taken.png")).expect("kept"), "mine");
    std::os::unix::fs::symlink(w.path("elsewhere.png"), w.path("link.png")).expect("a link");
    setup_with_qr(&w, "link.png").refused(Exit::Conflict, &["link.png"]);
    assert!(!w.path("elsewhere.png").exists(), "nothing written through the link");

    // An image format it cannot tell from the name.
    setup_with_qr(&w, "key.jpg").refused(Exit::Invalid, &[".svg or .png"]);
    assert!(!w.path("key.jpg").exists());

    // A failed set-up leaves no file behind.
    let r = w.run(
        &["otp", "setup", "--user", MAKER, "--app", "--password-stdin", "--qr", "key.png"],
        Some(&line(WRONG_PASSWORD)),
    );
    r.expect(Exit::Auth);
    assert!(!w.path("key.png").exists(), "the file of a failed set-up is removed");

    // --qr goes with --app.
    let r = w.run(
        &["otp", "setup", "--user", MAKER, "--email", "--accept-warning", "--password-stdin", "--qr", "key.png"],
        Some(&line(PASSWORD)),
    );
    r.expect(Exit::Usage);
    assert!(!w.path("key.png").exists());
    assert_eq!(w.cred(MAKER, "otp_channel IS NULL"), "1", "no channel was set up");
}
