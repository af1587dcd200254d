# The one place where the warning list lives (as curl's PickyWarnings.cmake).
set(SABAK_WARNINGS
  -Wall -Wextra -Wshadow -Wpointer-arith -Wcast-qual -Wwrite-strings
  -Wstrict-prototypes -Wmissing-prototypes -Wundef -Wvla -Wformat=2
  -Wno-unused-parameter -Wno-cast-qual
  -Werror=vla -Werror=missing-prototypes -Werror=implicit-function-declaration)
# Messages are cut to fit their buffers on purpose.
if(CMAKE_C_COMPILER_ID STREQUAL "GNU")
  list(APPEND SABAK_WARNINGS -Wno-format-truncation)
endif()
if(SABAK_WERROR)
  list(APPEND SABAK_WARNINGS -Werror)
endif()
