// TODO: active session async helpers
