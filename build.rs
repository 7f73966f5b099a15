//! Compiles `proto/` with protox, so building needs no system `protoc`.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("cargo:rerun-if-changed=proto");
    let files = protox::compile(
        [
            "floodgate/v1/envelope.proto",
            "floodgate/v1/events.proto",
            "floodgate/v1/commands.proto",
        ],
        ["proto"],
    )?;
    prost_build::Config::new().compile_fds(files)?;
    Ok(())
}
