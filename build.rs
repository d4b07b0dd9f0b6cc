//! Builds the browser app in `web/` (Vite) into `OUT_DIR/web` and writes the list of its
//! files, gzipped beside the plain bytes, for `src/http/web.rs` to embed. Runs again only
//! when the app's sources, lockfile or configuration change.
//!
//! `TICKHUB_WEB_DIST=<dir>` embeds an app built elsewhere instead (a packager without Node).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::{env, fs};

// Every path here must exist: cargo reruns a build script on each build while one of its
// watched paths is missing (a `web/public` folder, if the app gains one, goes here).
// `migrations` is here for `sqlx::migrate!`, which embeds the migrations at compile time
// but cannot tell cargo it read them: a new migration alone would not rebuild the hub.
const WATCHED: &[&str] = &[
    "migrations",
    "web/src",
    "web/index.html",
    "web/package.json",
    "web/package-lock.json",
    "web/vite.config.ts",
    "web/tsconfig.json",
];

fn main() {
    for p in WATCHED {
        println!("cargo:rerun-if-changed={p}");
    }
    println!("cargo:rerun-if-env-changed=TICKHUB_WEB_DIST");
    let root =
        PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let out = PathBuf::from(env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    let dist = match env::var_os("TICKHUB_WEB_DIST") {
        Some(d) => PathBuf::from(d),
        None => {
            let dist = out.join("web");
            build_web(&root.join("web"), &dist);
            dist
        }
    };
    write_manifest(&dist, &out.join("web_assets.rs"));
}

fn fail(msg: &str) -> ! {
    // A build script's panic shows its message at the end of cargo's output.
    panic!("\n\ntickhub's web app could not be built: {msg}\n\n");
}

fn npm() -> Command {
    Command::new(if cfg!(windows) { "npm.cmd" } else { "npm" })
}

fn run(mut cmd: Command, what: &str) {
    let status = cmd
        .status()
        .unwrap_or_else(|e| fail(&format!("{what} did not start: {e}")));
    if !status.success() {
        fail(&format!("{what} failed ({status}); its output is above"));
    }
}

fn build_web(web: &Path, dist: &Path) {
    let node = Command::new("node").arg("--version").output();
    if !node.as_ref().is_ok_and(|o| o.status.success()) {
        fail(
            "Node.js is not installed (or `node` is not on PATH). Install Node.js 20.19 or newer \
             with npm (https://nodejs.org, or `apt-get install nodejs npm`), then build again.",
        );
    }
    // `npm ci` when node_modules is missing or older than the lockfile: the lockfile decides.
    let lock = web.join("package-lock.json");
    let installed = web.join("node_modules/.package-lock.json");
    let stale = match (fs::metadata(&lock), fs::metadata(&installed)) {
        (Ok(l), Ok(i)) => match (l.modified(), i.modified()) {
            (Ok(l), Ok(i)) => l > i,
            _ => true,
        },
        _ => true,
    };
    if stale {
        let mut ci = npm();
        ci.current_dir(web)
            .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"]);
        run(ci, "`npm ci` in web/");
    }
    let mut build = npm();
    build
        .current_dir(web)
        .args(["run", "--silent", "build", "--", "--logLevel", "warn"])
        .env("TICKHUB_WEB_OUT", dist);
    run(build, "`npm run build` in web/");
}

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    let entries =
        fs::read_dir(dir).unwrap_or_else(|e| fail(&format!("cannot read {}: {e}", dir.display())));
    for entry in entries.flatten() {
        let p = entry.path();
        if p.is_dir() {
            files(&p, out);
        } else {
            out.push(p);
        }
    }
}

fn mime(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()).unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" | "map" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "woff2" => "font/woff2",
        "txt" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

fn write_manifest(dist: &Path, manifest: &Path) {
    if !dist.join("index.html").is_file() {
        fail(&format!("{} holds no index.html", dist.display()));
    }
    let mut all = Vec::new();
    files(dist, &mut all);
    all.sort();
    let gz_dir = manifest.with_file_name("web_gz");
    fs::create_dir_all(&gz_dir).unwrap_or_else(|e| fail(&format!("{e}")));
    let mut src = String::from("&[\n");
    for (i, f) in all.iter().enumerate() {
        let rel = f.strip_prefix(dist).expect("under dist");
        let url = format!("/{}", rel.to_string_lossy().replace('\\', "/"));
        let bytes = fs::read(f).unwrap_or_else(|e| fail(&format!("{}: {e}", f.display())));
        // Text compresses; images and fonts are compressed already.
        let gz = if mime(f).starts_with("text/")
            || mime(f).contains("json")
            || mime(f).contains("svg")
        {
            let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
            enc.write_all(&bytes).expect("gzip in memory");
            let gz = enc.finish().expect("gzip in memory");
            let p = gz_dir.join(format!("{i}.gz"));
            fs::write(&p, &gz).unwrap_or_else(|e| fail(&format!("{e}")));
            format!("Some(include_bytes!({:?}))", p.display().to_string())
        } else {
            "None".to_string()
        };
        src.push_str(&format!(
            "    Asset {{ path: {url:?}, mime: {:?}, body: include_bytes!({:?}), gzip: {gz} }},\n",
            mime(f),
            f.display().to_string()
        ));
    }
    src.push_str("]\n");
    fs::write(manifest, src).unwrap_or_else(|e| fail(&format!("{e}")));
}
