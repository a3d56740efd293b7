# DESIGN.md's module arrows, made real for the compiler: a module compiles against
# a view of the source tree that holds only itself and the modules it may reach
# (symbolic links under the build tree), not the whole tree. So sampler/ cannot
# find a daemon/ header at all, and daemon/ cannot find api/ or cli/. The view is
# PUBLIC: a module's headers include its dependencies' headers, so its users need
# to find them too. Which modules a module may include directly, and not only
# through another's headers, tests/architecture/module_arrows_test.py checks.
#
# pyprofd_module_include_view(TARGET MODULE [REACHABLE_MODULE...])
function(pyprofd_module_include_view target module)
  set(view ${PROJECT_BINARY_DIR}/module-views/${module})
  file(MAKE_DIRECTORY ${view})
  foreach(reachable ${module} ${ARGN})
    if(NOT EXISTS ${view}/${reachable})
      file(CREATE_LINK ${PROJECT_SOURCE_DIR}/${reachable} ${view}/${reachable} SYMBOLIC)
    endif()
  endforeach()
  target_include_directories(${target} PUBLIC ${view})
endfunction()
