# Copies Chart.js's UMD build from node_modules into the build tree; fails
# with the fix when npm's dev dependencies are not installed.
if(NOT EXISTS "${SRC}")
  message(FATAL_ERROR
    "${SRC} is missing: ruta-dashboard vendors Chart.js from npm at build "
    "time. Run scripts/install-deps.sh (or `npm ci` at the repository root).")
endif()
configure_file("${SRC}" "${DST}" COPYONLY)
