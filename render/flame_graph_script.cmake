# The flame graph's browser script lives in its own file and is embedded as a
# string literal at build time, with its SHA-256 (for the Content-Security-Policy
# that lets exactly this script run). Shared by the main build and the fuzz build.
function(pyprofd_embed_flame_graph_script source_dir generated_dir)
  set(script ${source_dir}/flame_graph_script.js)
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${script})
  file(READ ${script} text)
  file(WRITE ${generated_dir}/flame_graph_script.inc "R\"pyprofd_js(${text})pyprofd_js\"\n")
  string(SHA256 sha256 "${text}")
  file(WRITE ${generated_dir}/flame_graph_script_sha256.inc "\"${sha256}\"\n")
endfunction()
