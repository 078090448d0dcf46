# One warning policy for every target: the core must build clean at -Wall -Wextra.
function(rentrade_set_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wsign-conversion
                                           -Wnon-virtual-dtor -Wold-style-cast -Woverloaded-virtual)
  # __int128 is a GNU extension that -Wpedantic reports; the core relies on it for exact notionals.
  target_compile_options(${target} PRIVATE -Wno-pedantic)
  if(RENTRADE_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()
