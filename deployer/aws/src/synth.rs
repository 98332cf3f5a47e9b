//! `deployer synth`: the template of a stage, printed or written to a directory.

use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result, bail};

use crate::args::{Format, SynthArgs};
use crate::config::{DeployerConfig, LOCAL_STAGE};

/// The CloudFormation stack name of a stage (the contract's).
pub use photo_contract::stack::stack_name;

/// Renders the template of `stage` in `format`.
pub fn render(config_file: &Path, stage: &str, format: Format) -> Result<String> {
    if stage == LOCAL_STAGE {
        bail!(
            "the local stage runs on this machine and has no CloudFormation template: try `--stage dev`"
        );
    }
    let config = DeployerConfig::load(config_file)?;
    let stage_config = config.stage(stage)?;
    let template = stack::app::photo_app(stage_config)
        .with_context(|| format!("building the template of stage `{stage}`"))?;
    Ok(match format {
        Format::Json => template.to_json(),
        Format::Yaml => template.to_yaml(),
    })
}

/// Runs `deployer synth`, printing to `stdout` unless `--out` is given.
pub fn run(config_file: &Path, args: &SynthArgs, stdout: &mut impl Write) -> Result<()> {
    let text = render(config_file, &args.stage, args.format)?;
    match &args.out {
        None => stdout
            .write_all(text.as_bytes())
            .context("writing the template to standard output"),
        Some(dir) => {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("creating `{}`", dir.display()))?;
            let path = dir.join(format!(
                "{}.{}",
                stack_name(&args.stage),
                args.format.extension()
            ));
            std::fs::write(&path, text).with_context(|| format!("writing `{}`", path.display()))?;
            eprintln!("wrote {}", path.display());
            Ok(())
        }
    }
}
