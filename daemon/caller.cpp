#include "daemon/caller.hpp"

#include <fmt/format.h>

namespace pyprofd::daemon {

std::string Caller::describe() const {
    if (!token.empty())
        return admin ? fmt::format("token {} (admin)", token) : fmt::format("token {} (as uid {} ({}))", token, uid, user);
    return fmt::format("uid {} ({}){}", uid, user, admin && uid != 0 ? ", admin" : "");
}

std::string Caller::owner() const {
    // An admin token acts as no user: it owns what it starts under its own name.
    if (!token.empty() && admin) return "token:" + token;
    return fmt::format("uid:{}", uid);
}

}  // namespace pyprofd::daemon
