// Errors cross into JS as plain Error objects with a `code` property, built once on the JS thread
// from the text the core collected (lib/ turns them into InferencePoolError).
#pragma once

#include <napi.h>

#include <string>

#include "core/errors.h"

namespace ipjs {

Napi::Error MakeError(Napi::Env env, ip::ErrorCode code, const std::string& message);
Napi::Error MakeError(Napi::Env env, const ip::PoolError& error);
[[noreturn]] void ThrowInvalidArgument(Napi::Env env, const std::string& message);

}  // namespace ipjs
