# One engine per folder: libguard/src/<name>/ builds the static library guard_<name>, and
# tests/unit/<name>/ builds the Catch2 binary test_<name>. Each folder owns its CMakeLists.txt, so a
# module can be built and tested alone (cmake --build build --target test_<name>).

# guard_module(<name> SOURCES a.cc b.cc DEPS guard_x absl::status ...)
function(guard_module name)
  cmake_parse_arguments(M "" "" "SOURCES;DEPS" ${ARGN})
  add_library(guard_${name} STATIC ${M_SOURCES})
  target_include_directories(guard_${name} PUBLIC ${PROJECT_SOURCE_DIR}/libguard/src
                                                  ${PROJECT_SOURCE_DIR}/libguard/include)
  target_include_directories(guard_${name} SYSTEM PUBLIC ${RAPIDJSON_INCLUDE_DIR})
  target_link_libraries(guard_${name} PUBLIC ${M_DEPS})
  set_property(GLOBAL APPEND PROPERTY GUARD_MODULES guard_${name})
endfunction()

# guard_test(<name> SOURCES x_test.cc ... DEPS guard_x ...)
function(guard_test name)
  cmake_parse_arguments(T "" "" "SOURCES;DEPS" ${ARGN})
  add_executable(test_${name} ${PROJECT_SOURCE_DIR}/tests/unit/catch_main.cc ${T_SOURCES})
  target_link_libraries(test_${name} PRIVATE ${T_DEPS} Catch2::Catch2)
  target_compile_definitions(test_${name} PRIVATE
    GUARD_SOURCE_DIR="${PROJECT_SOURCE_DIR}" GUARD_BINARY_DIR="${PROJECT_BINARY_DIR}")
  catch_discover_tests(test_${name} TEST_PREFIX "${name}: ")
endfunction()
