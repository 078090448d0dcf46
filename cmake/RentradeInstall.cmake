# Installs the core for C++ users: the fastcore headers, the static library and a CMake package config,
# so another CMake project can write
#
#   find_package(rentrade CONFIG REQUIRED)
#   target_link_libraries(my_strategy PRIVATE rentrade::fastcore)
#
# When pip builds the wheel (scikit-build-core sets SKBUILD) everything goes inside the Python package,
# next to the extension: rentrade/include, rentrade/lib, rentrade/lib/cmake/rentrade. `python -m rentrade.cmake`
# prints that last folder for -Drentrade_DIR=... . A plain `cmake --install` uses the usual GNU layout.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

if(DEFINED SKBUILD)
  set(RENTRADE_INSTALL_INCLUDEDIR "rentrade/include")
  set(RENTRADE_INSTALL_LIBDIR "rentrade/lib")
else()
  set(RENTRADE_INSTALL_INCLUDEDIR "${CMAKE_INSTALL_INCLUDEDIR}")
  set(RENTRADE_INSTALL_LIBDIR "${CMAKE_INSTALL_LIBDIR}")
endif()
set(RENTRADE_INSTALL_CMAKEDIR "${RENTRADE_INSTALL_LIBDIR}/cmake/rentrade")

target_include_directories(fastcore PUBLIC "$<INSTALL_INTERFACE:${RENTRADE_INSTALL_INCLUDEDIR}>")
set_target_properties(fastcore PROPERTIES EXPORT_NAME fastcore)

install(TARGETS fastcore EXPORT rentradeTargets ARCHIVE DESTINATION "${RENTRADE_INSTALL_LIBDIR}")
install(DIRECTORY "${PROJECT_SOURCE_DIR}/src/fastcore" DESTINATION "${RENTRADE_INSTALL_INCLUDEDIR}"
        FILES_MATCHING PATTERN "*.hpp")
install(EXPORT rentradeTargets NAMESPACE rentrade:: DESTINATION "${RENTRADE_INSTALL_CMAKEDIR}")

configure_package_config_file("${CMAKE_CURRENT_LIST_DIR}/rentradeConfig.cmake.in"
                              "${CMAKE_CURRENT_BINARY_DIR}/rentradeConfig.cmake"
                              INSTALL_DESTINATION "${RENTRADE_INSTALL_CMAKEDIR}")
# The core is C++20 with no ABI promise between releases: only the exact version matches.
write_basic_package_version_file("${CMAKE_CURRENT_BINARY_DIR}/rentradeConfigVersion.cmake"
                                 COMPATIBILITY ExactVersion)
install(FILES "${CMAKE_CURRENT_BINARY_DIR}/rentradeConfig.cmake" "${CMAKE_CURRENT_BINARY_DIR}/rentradeConfigVersion.cmake"
        DESTINATION "${RENTRADE_INSTALL_CMAKEDIR}")
