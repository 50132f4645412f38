mod authenticate;
mod challenge;
mod complete_authenticate;
mod negotiate;
#[cfg(test)]
mod test;

pub(crate) use self::authenticate::read_authenticate;
pub(crate) use self::challenge::write_challenge;
pub(crate) use self::complete_authenticate::complete_authenticate;
pub(crate) use self::negotiate::read_negotiate;
