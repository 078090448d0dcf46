# AddressSanitizer + UndefinedBehaviorSanitizer for the whole build (core, tests, fuzzers).
if(RENTRADE_SANITIZE)
  set(_rentrade_san_flags -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer)
  add_compile_options(${_rentrade_san_flags} -O1 -g)
  add_link_options(${_rentrade_san_flags})
endif()
