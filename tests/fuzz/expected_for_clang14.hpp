#pragma once
// The fuzz targets are built with clang 14 (Debian's, for libFuzzer), whose
// concepts level hides libstdc++ 12's <expected>. This is the part of
// std::expected that the fuzzed parsers use, for that build only; the product
// itself is built with g++ and the real one.
#include <version>
#if !defined(__cpp_lib_expected)
#include <exception>
#include <type_traits>
#include <utility>
#include <variant>

namespace std {

template <class E>
class unexpected {
public:
    template <class Err = E>
    constexpr explicit unexpected(Err&& e) : error_(std::forward<Err>(e)) {}
    constexpr const E& error() const& noexcept { return error_; }
    constexpr E& error() & noexcept { return error_; }
    constexpr E&& error() && noexcept { return std::move(error_); }

private:
    E error_;
};
template <class E>
unexpected(E) -> unexpected<E>;

template <class T, class E>
class expected {
public:
    using value_type = T;
    using error_type = E;
    constexpr expected() : v_(std::in_place_index<0>) {}
    template <class U = T, class = std::enable_if_t<std::is_constructible_v<T, U&&> &&
                                                   !std::is_same_v<std::remove_cvref_t<U>, expected>>>
    constexpr expected(U&& v) : v_(std::in_place_index<0>, std::forward<U>(v)) {}
    template <class G>
    constexpr expected(const unexpected<G>& u) : v_(std::in_place_index<1>, u.error()) {}
    template <class G>
    constexpr expected(unexpected<G>&& u) : v_(std::in_place_index<1>, std::move(u).error()) {}

    constexpr bool has_value() const noexcept { return v_.index() == 0; }
    constexpr explicit operator bool() const noexcept { return has_value(); }
    constexpr T& operator*() & { return std::get<0>(v_); }
    constexpr const T& operator*() const& { return std::get<0>(v_); }
    constexpr T&& operator*() && { return std::get<0>(std::move(v_)); }
    constexpr T* operator->() { return &std::get<0>(v_); }
    constexpr const T* operator->() const { return &std::get<0>(v_); }
    constexpr T& value() & { return std::get<0>(v_); }
    constexpr const T& value() const& { return std::get<0>(v_); }
    constexpr E& error() & { return std::get<1>(v_); }
    constexpr const E& error() const& { return std::get<1>(v_); }
    template <class U>
    constexpr T value_or(U&& d) const& { return has_value() ? **this : static_cast<T>(std::forward<U>(d)); }

private:
    std::variant<T, E> v_;
};

template <class E>
class expected<void, E> {
public:
    using value_type = void;
    using error_type = E;
    constexpr expected() = default;
    template <class G>
    constexpr expected(const unexpected<G>& u) : error_(u.error()), has_error_(true) {}
    template <class G>
    constexpr expected(unexpected<G>&& u) : error_(std::move(u).error()), has_error_(true) {}
    constexpr bool has_value() const noexcept { return !has_error_; }
    constexpr explicit operator bool() const noexcept { return has_value(); }
    constexpr const E& error() const& { return error_; }
    constexpr E& error() & { return error_; }

private:
    E error_{};
    bool has_error_ = false;
};

}  // namespace std
#endif
