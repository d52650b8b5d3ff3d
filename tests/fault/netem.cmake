# The realistic Madre de Dios link: two ruta-node processes in network
# namespaces joined by a veth pair with tc netem (delay, loss, link flaps).
# Needs root (CI runs as root); skipped with the reason when namespaces or
# netem are unavailable. See README-netem.md.
ruta_executable(netem_test netem_test.cc)
target_link_libraries(netem_test PRIVATE ruta_testing ruta_proto
  GTest::gtest_main absl::strings absl::synchronization absl::time)
add_dependencies(netem_test ruta-node)
gtest_discover_tests(netem_test DISCOVERY_TIMEOUT 60
  PROPERTIES LABELS fault TIMEOUT 300)
