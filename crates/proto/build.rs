//! Compiles every `.proto` under the workspace's `proto/` with protox (no system protoc) into
//! Rust types, tonic clients and servers, and a descriptor set for gRPC server reflection.

use std::path::{Path, PathBuf};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Relative to the package (a build script runs there), so the paths, and the `rerun-if-changed` checks
    // cargo keeps, belong to the checkout being built, also when several checkouts share a target directory
    // (CI's cache); an absolute path would keep pointing at the checkout that built the script first.
    let proto_root = Path::new("../../proto");
    let mut files = Vec::new();
    collect_protos(&proto_root.join("scrm"), &mut files)?;
    files.sort();
    println!("cargo:rerun-if-changed={}", proto_root.join("scrm").display());
    for file in &files {
        println!("cargo:rerun-if-changed={}", file.display());
    }

    let descriptors = protox::compile(&files, [&proto_root])?;
    let out_dir = PathBuf::from(std::env::var("OUT_DIR")?);
    std::fs::write(out_dir.join("scrm_descriptor.bin"), prost::Message::encode_to_vec(&descriptors))?;

    tonic_prost_build::configure().generate_default_stubs(true).compile_fds(descriptors)?;
    Ok(())
}

fn collect_protos(dir: &Path, files: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            collect_protos(&path, files)?;
        } else if path.extension().is_some_and(|ext| ext == "proto") {
            files.push(path);
        }
    }
    Ok(())
}
