#include "binding/js_errors.h"

namespace ipjs {

Napi::Error MakeError(Napi::Env env, ip::ErrorCode code, const std::string& message) {
  Napi::Error error = Napi::Error::New(env, message);
  error.Set("code", Napi::String::New(env, ip::ErrorCodeName(code)));
  return error;
}

Napi::Error MakeError(Napi::Env env, const ip::PoolError& error) { return MakeError(env, error.code(), error.what()); }

void ThrowInvalidArgument(Napi::Env env, const std::string& message) {
  throw MakeError(env, ip::ErrorCode::kInvalidArgument, message);
}

}  // namespace ipjs
