pub(crate) mod rc4;
pub(crate) mod rsa;
