#pragma once
// Frame colours: the hue says what kind of code a frame is (see FrameKind), and
// within it the shade comes from a hash of the function and file, so the same
// function has the same colour in every graph, and neighbours differ.
#include <cstdint>
#include <string>
#include <string_view>

#include "render/frame_label.hpp"

namespace pyprofd::render {

struct Rgb {
    std::uint8_t r, g, b;
};

Rgb frame_color(std::string_view label);
std::string css_color(Rgb c);  // "rgb(r,g,b)"

}  // namespace pyprofd::render
