# rentrade_add_cython_module(<name> <source.pyx> [DESTINATION <dir>] [LINK <targets>...])
#
# Compiles a Cython module (C++ mode, language level 3) into a Python extension installed under
# `rentrade/<DESTINATION>`. The Cython wire listeners (python/rentrade/wire/*.pyx) use it; they cimport
# picows, so Cython must see picows' .pxd files on the include path (pinned with == in pyproject).
find_program(CYTHON_EXECUTABLE NAMES cython cython3 REQUIRED)

function(rentrade_add_cython_module name source)
  cmake_parse_arguments(ARG "" "DESTINATION" "LINK;INCLUDE_DIRS" ${ARGN})
  get_filename_component(_src "${source}" ABSOLUTE)
  set(_cpp "${CMAKE_CURRENT_BINARY_DIR}/${name}.cpp")
  set(_includes "")
  foreach(_dir IN LISTS ARG_INCLUDE_DIRS)
    list(APPEND _includes -I "${_dir}")
  endforeach()
  add_custom_command(
    OUTPUT "${_cpp}"
    COMMAND "${CYTHON_EXECUTABLE}" --cplus -3 --depfile ${_includes} "${_src}" -o "${_cpp}"
    DEPENDS "${_src}"
    # Cython's depfile lists the .pxd files the module cimports (ours and picows'), so a changed
    # declaration (a listener's layout, which a subclass in another module inherits) regenerates it.
    DEPFILE "${_cpp}.dep"
    COMMENT "Cython ${source}"
    VERBATIM)
  Python_add_library(${name} MODULE WITH_SOABI "${_cpp}")
  target_link_libraries(${name} PRIVATE ${ARG_LINK})
  install(TARGETS ${name} LIBRARY DESTINATION "rentrade/${ARG_DESTINATION}")
endfunction()
