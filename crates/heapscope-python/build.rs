//! Compiles the C capture shim against the headers of the interpreter PyO3 targets.

use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=csrc/capture_shim.c");
    println!("cargo:rerun-if-changed=csrc/capture_shim.h");
    println!("cargo:rerun-if-changed=csrc/hidden_refs.c");
    println!("cargo:rerun-if-changed=csrc/relate_stdlib.c");
    println!("cargo:rerun-if-changed=csrc/relate_report.h");
    println!("cargo:rerun-if-env-changed=PYO3_PYTHON");
    let config = pyo3_build_config::get();
    let python = config
        .executable()
        .map(str::to_string)
        .unwrap_or_else(|| "python3".to_string());
    let out = Command::new(&python)
        .args([
            "-c",
            "import sysconfig; print(sysconfig.get_paths()['include'])",
        ])
        .output()
        .unwrap_or_else(|e| panic!("cannot run {python} to find the Python headers: {e}"));
    assert!(
        out.status.success(),
        "{python} failed to report its include directory"
    );
    let include = String::from_utf8(out.stdout)
        .expect("utf-8 include path")
        .trim()
        .to_string();
    cc::Build::new()
        .file("csrc/capture_shim.c")
        .file("csrc/hidden_refs.c")
        .file("csrc/relate_stdlib.c")
        .include(&include)
        .include("csrc")
        .flag_if_supported("-Wno-unused-parameter")
        .flag_if_supported("-Wno-missing-field-initializers")
        .opt_level(2)
        .compile("heapscope_capture_shim");
    pyo3_build_config::use_pyo3_cfgs();
}
