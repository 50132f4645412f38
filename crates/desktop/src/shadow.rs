//! Shadow mode: reaching a display someone else started (e.g. the console's `:0`).
//!
//! The supervisor reads the display's MIT-MAGIC-COOKIE-1 from `$XAUTHORITY` (or
//! `~/.Xauthority`) once, as root, and hands it to the unprivileged workers, which cannot
//! read that file themselves.

use crate::connection::parse_local_display;
use crate::{DesktopError, X11Target, MIT_MAGIC_COOKIE};

/// A target for an existing local display, with its cookie if the authority file has one.
/// Fails if the display cannot be reached with it.
pub fn shadow_target(display: &str) -> Result<X11Target, DesktopError> {
    let (number, _screen) =
        parse_local_display(display).ok_or_else(|| DesktopError::InvalidDisplay(display.to_owned()))?;
    let host = rustix::system::uname().nodename().to_bytes().to_vec();
    let number = u16::try_from(number).map_err(|_| DesktopError::InvalidDisplay(display.to_owned()))?;
    let cookie = match x11rb_protocol::xauth::get_auth(x11rb_protocol::xauth::Family::LOCAL, &host, number) {
        Ok(Some((name, data))) if name == MIT_MAGIC_COOKIE.as_bytes() => Some(data),
        Ok(_) => None,
        Err(err) => {
            tracing::debug!(%err, "no readable xauthority; trying without a cookie");
            None
        }
    };
    let target = X11Target {
        display: display.to_owned(),
        cookie,
    };
    // Prove it works now, so a wrong --shadow is a start-up error and not a per-login one.
    crate::connection::connect(&target)?;
    Ok(target)
}

/// The uid that owns local display `display`: the owner of its socket in `/tmp/.X11-unix`,
/// which the X server creates as the account it runs as. Shadow mode lets that account's
/// users watch it.
pub fn display_owner(display: &str) -> Result<u32, DesktopError> {
    let (number, _screen) =
        parse_local_display(display).ok_or_else(|| DesktopError::InvalidDisplay(display.to_owned()))?;
    let socket = format!("/tmp/.X11-unix/X{number}");
    let meta = std::fs::metadata(&socket).map_err(|e| DesktopError::io(format!("stat {socket}"), e))?;
    Ok(std::os::unix::fs::MetadataExt::uid(&meta))
}
