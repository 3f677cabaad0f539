//! `heat-diag provision --snippet DIR [--for debian|ha-addon]`: only what an existing Mosquitto
//! needs for the controller, leaving every other client's setup as it is.
//!
//! - `debian` (the `mosquitto` package): a `conf.d` file, the controller's `$7$` line to append
//!   to the password file, and the ACL: `--existing-acl` with the controller's block merged in
//!   (or a new one), plus Home Assistant's grants on the controller's topics.
//! - `ha-addon` (Home Assistant's Mosquitto add-on): users are Home Assistant users, so no
//!   password file; `acl.conf` and `accesscontrollist` for the add-on's `customize` folder.
//!
//! Both write the controller's generated password to a 0600 file (never printed) and the
//! controller's `heat.env` lines. The controller's block grants only its prefix, its own
//! discovery topics `<discovery_prefix>/+/<node_id>/#` and `<discovery_prefix>/status`.

use std::{
    path::{Path, PathBuf},
    process::ExitCode,
};

use anyhow::Context;
use heat_mqtt::Topics;
use mosquitto_setup::{
    Access, AclUser, BlockRule, Grant, Merged, acl_block, addon_acl_conf_text, conf_d_text,
    hash_line, merge_acl,
};
use secrecy::ExposeSecret;
use zeroize::Zeroizing;

use super::{Args, Output, random_password, service_topics, write_outputs};
use crate::EXIT_CONFIG;

#[cfg(test)]
mod tests;

/// The broker a snippet is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Target {
    /// Debian's (or Raspberry Pi OS's) `mosquitto` package: /etc/mosquitto/conf.d.
    Debian,
    /// Home Assistant's Mosquitto broker add-on: /share/<folder>.
    HaAddon,
}

/// The users the add-on's own documentation says must keep full access once an ACL is on.
const ADDON_USERS: [&str; 2] = ["addons", "homeassistant"];

pub(crate) fn run(args: &Args, topics: &Topics) -> anyhow::Result<ExitCode> {
    let user = &args.controller_user;
    if !mosquitto_setup::passwd::valid_username(user) {
        eprintln!("heat-diag: --controller-user {user:?} is not a valid Mosquitto username");
        return Ok(ExitCode::from(EXIT_CONFIG));
    }
    if args.target == Target::HaAddon && ADDON_USERS.contains(&user.as_str()) {
        eprintln!(
            "heat-diag: --controller-user {user:?} is reserved by the Mosquitto add-on; use e.g. heat-controller"
        );
        return Ok(ExitCode::from(EXIT_CONFIG));
    }
    let existing = match &args.existing_acl {
        Some(path) => Some(
            std::fs::read_to_string(path)
                .with_context(|| format!("cannot read --existing-acl {}", path.display()))?,
        ),
        None => None,
    };
    let dir = std::path::absolute(&args.dir).context("cannot resolve the directory")?;
    let (outputs, merged) = match generate(args, topics, &dir, existing.as_deref()) {
        Ok(generated) => generated,
        Err(err) => {
            eprintln!("heat-diag: {err:#}");
            return Ok(ExitCode::from(EXIT_CONFIG));
        }
    };
    let mut dirs = vec![(dir.clone(), 0o755)];
    for parent in outputs.iter().filter_map(|o| o.path.parent()) {
        if !dirs.iter().any(|(d, _)| d == parent) {
            dirs.push((parent.to_path_buf(), 0o755));
        }
    }
    if let Some(refused) = write_outputs(&dirs, &outputs, args.force, "snippet")? {
        return Ok(refused);
    }
    report(args, &dir, &outputs, &merged);
    Ok(ExitCode::SUCCESS)
}

/// The controller's block, Home Assistant's grants on the controller's topics, merged.
fn generate(
    args: &Args,
    topics: &Topics,
    dir: &Path,
    existing: Option<&str>,
) -> anyhow::Result<(Vec<Output>, Merged)> {
    let user = &args.controller_user;
    let node = topics.node_id();
    let topics = service_topics(topics, &node);
    let controller = AclUser {
        name: user.clone(),
        grants: topics.service_grants()?,
    };
    let mut out = Vec::new();
    let mut add = |name: &str, contents: &[u8], mode: u32, what: String| {
        out.push(Output {
            path: dir.join(name),
            contents: Zeroizing::new(contents.to_vec()),
            mode,
            what,
        });
    };

    let password = random_password()?;
    let merged = match args.target {
        Target::Debian => {
            let mosquitto = &args.mosquitto_dir;
            add(
                "conf.d/heat-controller.conf",
                conf_d_text(&mosquitto.join("passwd"), &mosquitto.join("acl"))?.as_bytes(),
                0o644,
                format!("for {}/conf.d/", mosquitto.display()),
            );
            let line = hash_line(user, &password, args.iterations)?;
            add(
                "passwd.add",
                format!("{line}\n").as_bytes(),
                0o600,
                format!(
                    "$7$ line of {user} ({} iterations): append to {}/passwd",
                    args.iterations,
                    mosquitto.display()
                ),
            );
            // Home Assistant needs the controller's state and command topics; its own grants
            // elsewhere in the file stay (Mosquitto adds a user's blocks up).
            let prefix = &args.topic_prefix;
            let ha = AclUser {
                name: args.homeassistant_user.clone(),
                grants: vec![
                    Grant::new(Access::Read, format!("{prefix}/#")),
                    Grant::new(Access::Write, format!("{prefix}/+/set")),
                    Grant::new(Access::ReadWrite, format!("{}/#", args.discovery_prefix)),
                ],
            };
            let base = existing.map_or_else(|| new_acl_header(Target::Debian), str::to_owned);
            let with_controller = merge_acl(&base, &controller, BlockRule::Sole)?;
            let with_ha = merge_acl(&with_controller.text, &ha, BlockRule::Additional)?;
            add(
                "acl",
                with_ha.text.as_bytes(),
                0o644,
                acl_what(existing.is_some(), &mosquitto.join("acl")),
            );
            // What the existing file held, before either block.
            Merged {
                text: with_ha.text,
                ..with_controller
            }
        }
        Target::HaAddon => {
            let share = PathBuf::from("/share").join(&args.addon_folder);
            let acl_path = share.join("accesscontrollist");
            add(
                "acl.conf",
                addon_acl_conf_text(&acl_path)?.as_bytes(),
                0o644,
                format!("for {}/", share.display()),
            );
            let base = match existing {
                Some(text) => text.to_owned(),
                None => {
                    let mut text = new_acl_header(Target::HaAddon);
                    for name in ADDON_USERS {
                        let full = AclUser {
                            name: name.to_owned(),
                            grants: vec![Grant::new(Access::ReadWrite, "#")],
                        };
                        text.push_str(&acl_block(&full)?);
                        text.push('\n');
                    }
                    text
                }
            };
            let merged = merge_acl(&base, &controller, BlockRule::Sole)?;
            add(
                "accesscontrollist",
                merged.text.as_bytes(),
                0o644,
                acl_what(existing.is_some(), &acl_path),
            );
            merged
        }
    };
    let mut text = Zeroizing::new(password.expose_secret().to_owned());
    text.push('\n');
    add(
        &format!("{user}.password"),
        text.as_bytes(),
        0o600,
        format!("password of {user}: for /etc/heat-controller/mqtt_password"),
    );
    add(
        "heat.env",
        env_text(args).as_bytes(),
        0o644,
        "the controller's MQTT lines for /etc/heat-controller/heat.env".into(),
    );
    Ok((out, merged))
}

fn acl_what(merged: bool, installed: &Path) -> String {
    if merged {
        format!(
            "your ACL with the controller's block merged in: for {}",
            installed.display()
        )
    } else {
        format!("a new ACL: for {}", installed.display())
    }
}

/// The head of an ACL file made from nothing: once Mosquitto has an ACL, whatever it does not
/// grant is denied to every user.
fn new_acl_header(target: Target) -> String {
    let others = match target {
        Target::Debian => {
            "# Add a block for each of your other clients (zigbee2mqtt, Tasmota...) before you\n\
             # install it, or they lose access: `user NAME` followed by `topic readwrite TOPIC/#`.\n"
        }
        Target::HaAddon => {
            "# `addons` and `homeassistant` keep full access, as the add-on's documentation requires.\n\
             # Add a block for each of your other MQTT users, or they lose access.\n"
        }
    };
    format!(
        "# Mosquitto ACL (generated by heat-diag provision --snippet): every topic not granted\n\
         # here is denied to every user.\n{others}\n"
    )
}

fn env_text(args: &Args) -> String {
    let host = args.broker_host.as_deref().unwrap_or("localhost");
    format!(
        "# The controller's MQTT settings (generated by heat-diag provision --snippet).\n\
         # The password goes in /etc/heat-controller/mqtt_password, never here.\n\
         MQTT_BROKER={host}\n\
         MQTT_USERNAME={user}\n\
         MQTT_TOPIC_PREFIX={prefix}\n\
         # Set these when the broker's listener is not plain 1883, e.g. its TLS listener:\n\
         # MQTT_PORT=8883\n\
         # MQTT_CA_FILE=/etc/heat-controller/ca.crt\n",
        user = args.controller_user,
        prefix = args.topic_prefix,
    )
}

fn report(args: &Args, dir: &Path, outputs: &[Output], merged: &Merged) {
    let user = &args.controller_user;
    if args.json {
        let files: Vec<_> = outputs
            .iter()
            .map(|o| {
                serde_json::json!({
                    "path": o.path.display().to_string(),
                    "mode": format!("{:04o}", o.mode),
                    "what": o.what,
                })
            })
            .collect();
        let value = serde_json::json!({
            "dir": dir.display().to_string(),
            "target": match args.target { Target::Debian => "debian", Target::HaAddon => "ha-addon" },
            "users": [user],
            "files": files,
            "other_users": merged.other_users,
            "patterns": merged.patterns,
        });
        println!("{value:#}");
        return;
    }
    println!("snippet for an existing broker in {}", dir.display());
    for o in outputs {
        let name = o.path.strip_prefix(dir).unwrap_or(&o.path);
        println!("  {:<28} {:04o}  {}", name.display(), o.mode, o.what);
    }
    if !merged.other_users.is_empty() {
        println!(
            "\nother users' rules kept as they were: {}",
            merged.other_users.join(", ")
        );
    }
    for pattern in &merged.patterns {
        println!(
            "warning: `{pattern}` applies to every user, {user} included: check it grants {user} nothing more"
        );
    }
    let d = dir.display();
    match args.target {
        Target::Debian => {
            let m = args.mosquitto_dir.display();
            println!(
                "\nnext steps on the broker (docs/existing-broker.md):\n  \
                 - read the comments of conf.d/heat-controller.conf; then\n    \
                 sudo install -m 0644 {d}/conf.d/heat-controller.conf {m}/conf.d/\n  \
                 - add the user, keeping the file's owner and mode:\n    \
                 sudo sh -c 'cat {d}/passwd.add >> {m}/passwd'\n    \
                 (no password file yet: sudo install -m 0600 -o mosquitto -g mosquitto {d}/passwd.add {m}/passwd)\n  \
                 - sudo install -m 0644 {d}/acl {m}/acl\n  \
                 - sudo systemctl restart mosquitto\n\
                 on the controller:\n  \
                 - sudo install -m 0600 {d}/{user}.password /etc/heat-controller/mqtt_password\n  \
                 - merge {d}/heat.env into /etc/heat-controller/heat.env"
            );
        }
        Target::HaAddon => {
            let folder = &args.addon_folder;
            println!(
                "\nnext steps (docs/existing-broker.md):\n  \
                 - in Home Assistant, Settings > People > Users: add the user {user}, not an\n    \
                 administrator, with the password in {d}/{user}.password\n  \
                 - copy acl.conf and accesscontrollist into the add-on's /share/{folder}/ (Samba share\n    \
                 `share`, or /usr/share/hassio/share on the host)\n  \
                 - add-on configuration: customize: {{active: true, folder: {folder}}}; restart the add-on\n\
                 on the controller:\n  \
                 - sudo install -m 0600 {d}/{user}.password /etc/heat-controller/mqtt_password\n  \
                 - merge {d}/heat.env into /etc/heat-controller/heat.env"
            );
        }
    }
}
