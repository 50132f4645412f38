mod authenticate;
mod challenge;
mod negotiate;
#[cfg(test)]
mod test;

pub(crate) use self::authenticate::write_authenticate;
pub(crate) use self::challenge::read_challenge;
pub(crate) use self::negotiate::write_negotiate;
