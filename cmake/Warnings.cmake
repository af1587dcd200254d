# The one place where the warning list lives (as curl's PickyWarnings.cmake).
set(SABAK_WARNINGS
  -Wall -Wextra -Wshadow -Wpointer-arith -Wcast-qual -Wwrite-strings
  -Wstrict-prototypes -Wmissing-prototypes -Wundef -Wvla -Wformat=2
  -Wno-unused-parameter -Wno-cast-qual -Wno-format-truncation
  -Werror=vla -Werror=missing-prototypes -Werror=implicit-function-declaration)
if(SABAK_WERROR)
  list(APPEND SABAK_WARNINGS -Werror)
endif()
